"""The portal's own knobs (`ROI_PORTAL_*`); host and port are in config/settings.py."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    """Abuse limits and cookies of the public portal. The defaults suit a hospital's page:
    a family may send a few requests from one address; a script sending many is stopped."""

    model_config = SettingsConfigDict(env_prefix="ROI_PORTAL_", extra="ignore")

    #: `__Host-` prefixed Secure cookies (browsers accept them on https and on loopback http);
    #: false only for plain http off-loopback
    cookie_secure: bool = True
    #: form submissions (every request kind) per client address per window
    submissions_per_window: int = 10
    submission_window_minutes: int = 60
    #: status lookups per client address and per tracking number per window (a right answer
    #: gives its attempt back)
    status_per_window: int = 10
    status_window_minutes: int = 15
    #: one-time codes that prove a signer's email (the third-party authorization): codes
    #: mailed per email address and per client address per window
    codes_per_email_window: int = 3
    codes_per_address_window: int = 10
    code_window_minutes: int = 60
    #: the imaging study page (issue 18): hours a device that confirmed the patient's date of
    #: birth sees the page, previews and zip without asking again; wrong dates of birth per
    #: client address and per link per window; how long a link shared with a doctor works;
    #: links one link may share per day
    link_device_hours: int = 24
    link_dob_per_window: int = 5
    link_dob_window_minutes: int = 15
    share_ttl_days: int = 14
    shares_per_day: int = 10
    #: the largest document a form accepts (a legal document, a decree), in bytes
    upload_max_bytes: int = 10_000_000
