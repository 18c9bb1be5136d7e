"""Webhooks: endpoints users register, the outbox, signing, SSRF policy and delivery."""
