"""FedEx Ship and Track REST APIs (OAuth client credentials), with httpx.

Used with FedEx's sandbox or production URL in ROI_FEDEX_BASE_URL, or the fake carrier
(`python -m fakes.carrier`) in tests and the demo. Tokens are cached until shortly before they
expire. Nothing about the patient goes to the carrier: the recipient's name and address only.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import httpx
from temporalio.exceptions import ApplicationError

SERVICE_2DAY = "FEDEX_2_DAY"


@dataclass(frozen=True)
class Party:
    """A shipper or recipient as the carrier needs it."""

    name: str
    street_lines: list[str]
    city: str
    state: str
    postal_code: str
    phone: str = "0000000000"
    company: str | None = None

    def as_fedex(self) -> dict[str, object]:
        contact: dict[str, object] = {"personName": self.name, "phoneNumber": self.phone}
        if self.company:
            contact["companyName"] = self.company
        return {
            "contact": contact,
            "address": {
                "streetLines": self.street_lines,
                "city": self.city,
                "stateOrProvinceCode": self.state,
                "postalCode": self.postal_code,
                "countryCode": "US",
            },
        }


@dataclass(frozen=True)
class Shipment:
    tracking_number: str
    label_pdf: bytes


@dataclass(frozen=True)
class Tracking:
    tracking_number: str
    code: str  # FedEx status code: OC, PU, IT, OD, DL, DE...
    description: str
    delivered_at: datetime | None

    @property
    def status(self) -> str:
        """label_created, in_transit, delivered or exception."""
        if self.code == "DL":
            return "delivered"
        if self.code in ("DE", "SE", "CA"):
            return "exception"
        if self.code == "OC":
            return "label_created"
        return "in_transit"


class FedexClient:
    """A small client for the calls the engine makes."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        account_number: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.account_number = account_number
        self._id = client_id
        self._secret = client_secret
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._token: str | None = None
        self._token_until = 0.0
        self._lock = threading.Lock()

    def _bearer(self) -> str:
        with self._lock:
            if self._token and time.monotonic() < self._token_until:
                return self._token
            response = self._http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._id,
                    "client_secret": self._secret,
                },
            )
            _raise_for(response, "oauth")
            body = response.json()
            self._token = body["access_token"]
            self._token_until = time.monotonic() + max(int(body.get("expires_in", 3600)) - 60, 30)
            return self._token

    def _post(self, path: str, payload: dict[str, object], what: str) -> dict[str, Any]:
        response = self._http.post(
            path,
            json=payload,
            headers={"Authorization": f"Bearer {self._bearer()}", "X-locale": "en_US"},
        )
        if response.status_code == 401:  # token revoked early: one fresh try
            self._token = None
            response = self._http.post(
                path,
                json=payload,
                headers={"Authorization": f"Bearer {self._bearer()}", "X-locale": "en_US"},
            )
        _raise_for(response, what)
        return cast(dict[str, Any], response.json())

    def create_shipment(
        self, shipper: Party, recipient: Party, reference: str, ship_date: date
    ) -> Shipment:
        """A FedEx 2Day envelope with a PDF label; `reference` is our opaque delivery key."""
        body = self._post(
            "/ship/v1/shipments",
            {
                "labelResponseOptions": "LABEL",
                "accountNumber": {"value": self.account_number},
                "requestedShipment": {
                    "shipper": shipper.as_fedex(),
                    "recipients": [recipient.as_fedex()],
                    "shipDatestamp": ship_date.isoformat(),
                    "serviceType": SERVICE_2DAY,
                    "packagingType": "FEDEX_ENVELOPE",
                    "pickupType": "USE_SCHEDULED_PICKUP",
                    "shippingChargesPayment": {"paymentType": "SENDER"},
                    "labelSpecification": {
                        "imageType": "PDF",
                        "labelStockType": "PAPER_85X11_TOP_HALF_LABEL",
                    },
                    "requestedPackageLineItems": [
                        {
                            "weight": {"units": "LB", "value": 1},
                            "customerReferences": [
                                {"customerReferenceType": "CUSTOMER_REFERENCE", "value": reference}
                            ],
                        }
                    ],
                },
            },
            "ship",
        )
        shipment = body["output"]["transactionShipments"][0]
        piece = shipment["pieceResponses"][0]
        label = next(
            d["encodedLabel"] for d in piece["packageDocuments"] if d["contentType"] == "LABEL"
        )
        return Shipment(tracking_number=piece["trackingNumber"], label_pdf=base64.b64decode(label))

    def shipments_for(self, reference: str, ship_date: date) -> list[str]:
        """Tracking numbers of live shipments created with our `reference` (Track by
        References): how a retry learns that an earlier attempt's request reached FedEx even
        though its answer, and the label in it, never came back."""
        body = self._post(
            "/track/v1/referencenumbers",
            {
                "referencesInformation": {
                    "type": "CUSTOMER_REFERENCE",
                    "value": reference,
                    "accountNumber": self.account_number,
                    "shipDateBegin": (ship_date - timedelta(days=1)).isoformat(),
                    "shipDateEnd": ship_date.isoformat(),
                },
                "includeDetailedScans": False,
            },
            "track by reference",
        )
        results = body["output"]["completeTrackResults"][0]["trackResults"]
        return [r["trackingNumberInfo"]["trackingNumber"] for r in results if "error" not in r]

    def cancel(self, tracking_number: str) -> None:
        """Cancel a shipment that was never tendered (voids its charge)."""
        response = self._http.put(
            "/ship/v1/shipments/cancel",
            json={
                "accountNumber": {"value": self.account_number},
                "trackingNumber": tracking_number,
                "deletionControl": "DELETE_ALL_PACKAGES",
            },
            headers={"Authorization": f"Bearer {self._bearer()}", "X-locale": "en_US"},
        )
        _raise_for(response, "cancel")

    def track(self, tracking_number: str) -> Tracking:
        """The latest status of a shipment."""
        body = self._post(
            "/track/v1/trackingnumbers",
            {
                "includeDetailedScans": False,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": tracking_number}}],
            },
            "track",
        )
        result = body["output"]["completeTrackResults"][0]["trackResults"][0]
        if "error" in result:
            raise ApplicationError("tracking number unknown to the carrier", type="TrackingError")
        latest = result["latestStatusDetail"]
        delivered = next(
            (
                d["dateTime"]
                for d in result.get("dateAndTimes", [])
                if d["type"] == "ACTUAL_DELIVERY"
            ),
            None,
        )
        return Tracking(
            tracking_number=tracking_number,
            code=latest["code"],
            description=latest.get("description", ""),
            delivered_at=datetime.fromisoformat(delivered) if delivered else None,
        )


def _raise_for(response: httpx.Response, what: str) -> None:
    """Carrier errors as activity errors (4xx other than 429: not retried; the body has no PHI
    of ours, but it is not echoed anyway)."""
    if response.is_success:
        return
    retryable = response.status_code >= 500 or response.status_code == 429
    raise ApplicationError(
        f"carrier {what} failed with HTTP {response.status_code}",
        type="CarrierError",
        non_retryable=not retryable,
    )
