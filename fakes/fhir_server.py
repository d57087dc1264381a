"""A small FHIR R4 server on loopback (search and read of the resources the engine uses).

Enough of the REST API for tests and demos: Patient search (family, given, birthdate),
DocumentReference search (patient, date=geYYYY-MM-DD / leYYYY-MM-DD), ImagingStudy search
(patient), read by type and id, and searchset Bundles paged with `next` links.
"""

from __future__ import annotations

import argparse
import base64
from typing import Any

from fakes.http import LoopbackServer, Reply, json_reply, serve_until_interrupted

PAGE = 2  # small pages, so clients must follow `next`
FHIR_JSON = "application/fhir+json"


class FhirStore:
    """Resources by type and id."""

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = {}
        self.base = ""

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.resources.setdefault(resource["resourceType"], {})[resource["id"]] = resource
        return resource

    def patient(self, pid: str, first: str, last: str, birth: str, mrn: str | None = None) -> None:
        resource: dict[str, Any] = {
            "resourceType": "Patient",
            "id": pid,
            "name": [{"family": last, "given": [first]}],
            "birthDate": birth,
        }
        if mrn:
            resource["identifier"] = [{"type": {"text": "MRN"}, "value": mrn}]
        self.add(resource)

    def document(
        self,
        did: str,
        pid: str,
        loinc: str,
        when: str,
        pdf: bytes,
        *,
        title: str = "",
        labels: list[str] | None = None,
    ) -> None:
        self.add(
            {
                "resourceType": "Binary",
                "id": f"b-{did}",
                "contentType": "application/pdf",
                "data": base64.b64encode(pdf).decode(),
            }
        )
        resource: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "id": did,
            "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "subject": {"reference": f"Patient/{pid}"},
            "date": f"{when}T12:00:00Z",
            "description": title,
            "content": [
                {"attachment": {"contentType": "application/pdf", "url": f"Binary/b-{did}"}}
            ],
        }
        if labels:
            resource["securityLabel"] = [{"coding": [{"code": code}]} for code in labels]
        self.add(resource)

    def study(self, sid: str, pid: str, when: str, description: str) -> None:
        self.add(
            {
                "resourceType": "ImagingStudy",
                "id": sid,
                "status": "available",
                "subject": {"reference": f"Patient/{pid}"},
                "started": f"{when}T09:00:00Z",
                "numberOfSeries": 2,
                "numberOfInstances": 120,
                "description": description,
            }
        )

    # ---- HTTP ---------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Reply:
        parts = [p for p in path.split("/") if p]
        if method != "GET" or not parts:
            return json_reply(405, _outcome("not-supported"))
        if len(parts) == 2:
            found = self.resources.get(parts[0], {}).get(parts[1])
            return json_reply(200, found) if found else json_reply(404, _outcome("not-found"))
        matches = [r for r in self.resources.get(parts[0], {}).values() if _matches(r, query)]
        offset = int(query.get("_offset", ["0"])[0])
        page = matches[offset : offset + PAGE]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matches),
            "link": [],
            "entry": [{"resource": r} for r in page],
        }
        if offset + PAGE < len(matches):
            rest = "&".join(f"{k}={v}" for k, vs in query.items() if k != "_offset" for v in vs)
            bundle["link"].append(
                {
                    "relation": "next",
                    "url": f"{self.base}/{parts[0]}?{rest}&_offset={offset + PAGE}",
                }
            )
        return json_reply(200, bundle)


def _outcome(code: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code}]}


def _matches(resource: dict[str, Any], query: dict[str, list[str]]) -> bool:
    for key, values in query.items():
        for value in values:
            if key.startswith("_"):
                continue
            if key == "patient":
                if resource.get("subject", {}).get("reference") != f"Patient/{value}":
                    return False
            elif key == "family":
                if not any(
                    n.get("family", "").lower() == value.lower() for n in resource.get("name", [])
                ):
                    return False
            elif key == "given":
                if not any(
                    value.lower() in [g.lower() for g in n.get("given", [])]
                    for n in resource.get("name", [])
                ):
                    return False
            elif key == "birthdate":
                if resource.get("birthDate") != value:
                    return False
            elif key == "date":
                day = (resource.get("date") or "")[:10]
                if value.startswith("ge") and day < value[2:]:
                    return False
                if value.startswith("le") and day > value[2:]:
                    return False
    return True


def serve(store: FhirStore, port: int = 0) -> LoopbackServer:
    """Start the server on loopback; the store learns its base URL (for `next` links)."""
    server = LoopbackServer(store.handle, port).start()
    store.base = server.url
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    store = FhirStore()
    server = serve(store, args.port)
    serve_until_interrupted(server, f"fake FHIR server on {server.url} (empty; load in code)")


if __name__ == "__main__":
    main()
