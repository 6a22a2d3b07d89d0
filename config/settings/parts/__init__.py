"""The settings by concern; ``config/settings/base.py`` composes them (one file each, as HackSoft's
styleguide does), so a reader finds JWT, Redis or the chat knobs by name."""
