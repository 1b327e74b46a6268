"""Operations: backing up and restoring the portal's database."""
