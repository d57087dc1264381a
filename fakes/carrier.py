"""A fake FedEx (OAuth, Ship and Track REST APIs) on loopback, for tests and the demo.

    python -m fakes.carrier [--port 8790]

It speaks the same shapes as FedEx's APIs for what the engine uses (client-credentials token,
create shipment with a PDF label, track by number) and keeps what it received, readable at
GET /_fake/shipments. A shipment moves one step per tracking read (picked up, in transit,
delivered), so a workflow following it reaches delivery in a few reads.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from fakes.http import LoopbackServer, Reply, json_reply, serve_until_interrupted

STEPS = [("PU", "Picked up"), ("IT", "In transit"), ("DL", "Delivered")]


def reference_of(shipment: dict[str, Any]) -> str:
    """The customer reference a stored shipment was created with (our delivery key)."""
    item = shipment["request"]["requestedShipment"]["requestedPackageLineItems"][0]
    return str(item["customerReferences"][0]["value"])


class FakeCarrier:
    """State and routes of the fake carrier."""

    def __init__(self, client_id: str = "demo-client", client_secret: str = "demo-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens: set[str] = set()
        self.shipments: dict[str, dict[str, Any]] = {}
        self.fail_next_ship = 0  # tests: make the next N create-shipment calls fail (HTTP 503)
        self.reject_calls: set[int] = set()  # tests: refuse these create-shipment calls (400)
        self.ship_calls = 0
        self._lock = threading.Lock()

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        if method == "POST" and path == "/oauth/token":
            return self._token(body)
        if method == "GET" and path == "/_fake/shipments":
            return json_reply(200, list(self.shipments.values()))
        if headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return json_reply(401, {"errors": [{"code": "NOT.AUTHORIZED.ERROR"}]})
        if method == "POST" and path == "/ship/v1/shipments":
            return self._ship(json.loads(body))
        if method == "POST" and path == "/track/v1/trackingnumbers":
            return self._track(json.loads(body))
        if method == "POST" and path == "/track/v1/referencenumbers":
            return self._by_reference(json.loads(body))
        if method == "PUT" and path == "/ship/v1/shipments/cancel":
            return self._cancel(json.loads(body))
        return json_reply(404, {"errors": [{"code": "NOT.FOUND.ERROR"}]})

    def _token(self, body: bytes) -> Reply:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return json_reply(401, {"errors": [{"code": "NOT.AUTHORIZED.ERROR"}]})
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return json_reply(
            200, {"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": "CXS"}
        )

    def _ship(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.ship_calls += 1
            if self.ship_calls in self.reject_calls:
                return json_reply(400, {"errors": [{"code": "SHIPMENT.VALIDATION.ERROR"}]})
            if self.fail_next_ship:
                self.fail_next_ship -= 1
                return json_reply(503, {"errors": [{"code": "SERVICE.UNAVAILABLE.ERROR"}]})
            shipment = request["requestedShipment"]
            tracking = f"7{int(time.time() * 1000) % 10**10:010d}{len(self.shipments):02d}"
            self.shipments[tracking] = {
                "trackingNumber": tracking,
                "request": request,
                "created": datetime.now(UTC).isoformat(),
                "step": -1,
            }
        label = _label_pdf(tracking, shipment)
        return json_reply(
            200,
            {
                "transactionId": secrets.token_hex(8),
                "output": {
                    "transactionShipments": [
                        {
                            "masterTrackingNumber": tracking,
                            "serviceType": shipment.get("serviceType"),
                            "pieceResponses": [
                                {
                                    "trackingNumber": tracking,
                                    "packageDocuments": [
                                        {
                                            "contentType": "LABEL",
                                            "docType": "PDF",
                                            "encodedLabel": base64.b64encode(label).decode(),
                                        }
                                    ],
                                }
                            ],
                        }
                    ]
                },
            },
        )

    def _by_reference(self, request: dict[str, Any]) -> Reply:
        """Track by customer reference: every live shipment carrying it."""
        wanted = request.get("referencesInformation", {}).get("value")
        found = [
            {"trackingNumberInfo": {"trackingNumber": number}}
            for number, shipment in self.shipments.items()
            if not shipment.get("cancelled") and reference_of(shipment) == wanted
        ]
        if not found:
            found = [{"error": {"code": "TRACKING.REFERENCENUMBER.NOTFOUND"}}]
        return json_reply(200, {"output": {"completeTrackResults": [{"trackResults": found}]}})

    def _cancel(self, request: dict[str, Any]) -> Reply:
        """Cancel a shipment not yet tendered (its charge is voided)."""
        with self._lock:
            shipment = self.shipments.get(str(request.get("trackingNumber")))
            if shipment is None:
                return json_reply(404, {"errors": [{"code": "TRACKING.TRACKINGNUMBER.NOTFOUND"}]})
            shipment["cancelled"] = True
        return json_reply(200, {"output": {"cancelledShipment": True}})

    def _track(self, request: dict[str, Any]) -> Reply:
        results = []
        for info in request.get("trackingInfo", []):
            number = info["trackingNumberInfo"]["trackingNumber"]
            shipment = self.shipments.get(number)
            if shipment is None:
                results.append(
                    {
                        "trackingNumber": number,
                        "trackResults": [{"error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND"}}],
                    }
                )
                continue
            with self._lock:
                shipment["step"] = min(shipment["step"] + 1, len(STEPS) - 1)
            code, words = STEPS[shipment["step"]]
            result: dict[str, Any] = {
                "latestStatusDetail": {"code": code, "statusByLocale": words, "description": words},
                "dateAndTimes": [],
            }
            if code == "DL":
                result["dateAndTimes"].append(
                    {"type": "ACTUAL_DELIVERY", "dateTime": datetime.now(UTC).isoformat()}
                )
            results.append({"trackingNumber": number, "trackResults": [result]})
        return json_reply(200, {"output": {"completeTrackResults": results}})


def _label_pdf(tracking: str, shipment: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=1)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(72, 720, "FEDEX 2DAY (FAKE CARRIER - NOT A REAL LABEL)")
    pdf.drawString(72, 696, f"TRK# {tracking}")
    recipient = shipment["recipients"][0]
    y = 660
    for line in [
        recipient["contact"].get("personName", ""),
        *recipient["address"]["streetLines"],
        f"{recipient['address']['city']} {recipient['address']['stateOrProvinceCode']} "
        f"{recipient['address']['postalCode']}",
    ]:
        pdf.drawString(72, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def serve(
    port: int = 0, carrier: FakeCarrier | None = None, host: str = "127.0.0.1"
) -> tuple[LoopbackServer, FakeCarrier]:
    """Start the fake carrier on loopback by default (port 0: any free port)."""
    carrier = carrier or FakeCarrier()
    return LoopbackServer(carrier.handle, port, host).start(), carrier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 inside a container")
    args = parser.parse_args()
    server, _ = serve(args.port, host=args.host)
    serve_until_interrupted(server, f"fake carrier on {server.url}")


if __name__ == "__main__":
    main()
