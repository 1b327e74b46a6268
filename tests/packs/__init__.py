"""Tests of the content-pack system: validation, authoring commands, start-up, the
contract every installed pack meets, and the Markdown renderer's XSS defences."""
