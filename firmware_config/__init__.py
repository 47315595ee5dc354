"""Venue radio profiles (Meshtastic configure YAML), their checker, apply/export and channel QR codes."""
