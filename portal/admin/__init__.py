"""Administration pages: installed packs and plugins."""
