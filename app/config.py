"""Web app settings (environment, prefix ROI_WEB_); the engine's own settings stay in config."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Sessions, claims, throttles and the board's thresholds."""

    model_config = SettingsConfigDict(env_prefix="ROI_WEB_", extra="ignore")

    session_idle_minutes: int = 30  # signed out after this long without a request
    session_max_hours: int = 12  # and after this long whatever happens (one shift)
    # Secure cookies named __Host-… (app/auth.py); browsers accept them on http://localhost and
    # http://127.0.0.1 too. false only for plain http off loopback: names lose the prefix.
    cookie_secure: bool = True
    enrolment_hours: int = 72  # how long a one-time link to set one's own password works
    claim_timeout_minutes: int = 60  # an untouched claim goes back to the queue
    # Sign-in throttle (app/throttle.py): no lockout, a growing wait. After this many attempts
    # per username each further one waits 1 s, 2 s, 4 s… up to throttle_max_delay_seconds.
    login_max_failures: int = 5
    login_address_max_failures: int = 20  # the same, per client address (unsuccessful only)
    login_window_minutes: int = 15  # a bucket is forgotten after this long without attempts
    throttle_base_delay_seconds: float = 1.0  # the first wait; each further one doubles
    throttle_max_delay_seconds: int = 900  # the longest wait any throttle asks for
    download_max_failures: int = 10  # wrong or expired download links per client address
    # After a link's first download, another device, or the same one after this many hours,
    # must confirm the patient's date of birth; wrong dates per link (and per address above)
    download_device_hours: int = 24
    download_dob_max_failures: int = 5
    api_max_failures: int = 10  # wrong intake API bearer tokens per client address
    api_requests_per_minute: int = 120  # intake API requests per token
    status_max_failures: int = 5  # wrong status lookups per client address / tracking number
    status_window_minutes: int = 15
    board_refresh_seconds: int = 30
    due_soon_days: int = 3  # target due within this many days
    legal_risk_business_days: int = 3  # legal due within this many business days
    queue_page_size: int = 50
