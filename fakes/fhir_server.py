"""A small FHIR R4 server on loopback (search and read of the resources the engine uses).

Enough of the REST API for tests and demos: Patient search (family, given, birthdate),
DocumentReference search (patient, date=geYYYY-MM-DD / leYYYY-MM-DD), ImagingStudy search
(patient), read by type and id, and searchset Bundles paged with `next` links.

Searches are `POST [base]/[type]/_search` with a form body, or a GET with the parameters in the
URL; a GET search naming a patient (family, given, name, birthdate) is refused (400), as a
server that keeps names and birth dates out of its access logs would, so a client that put them
in a URL fails its tests. A POSTed search pages by an opaque id (`?_getpages=`, as HAPI does)
unless `echo_paging` makes its `next` links repeat the search, as some servers do. Every
request's method and URL is kept in `requests`, for tests to check what a URL carried.
"""

from __future__ import annotations

import argparse
import base64
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

from fakes.http import LoopbackServer, Reply, json_reply, serve_until_interrupted

PAGE = 2  # small pages, so clients must follow `next`
FHIR_JSON = "application/fhir+json"
FORM = "application/x-www-form-urlencoded"
#: Search parameters that identify a patient: accepted in a POST body, refused in a URL.
IDENTITY_PARAMS = frozenset({"family", "given", "name", "birthdate"})


class FhirStore:
    """Resources by type and id."""

    def __init__(self, *, echo_paging: bool = False) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = {}
        self.base = ""
        self.echo_paging = echo_paging
        self.pages: dict[str, tuple[str, dict[str, list[str]]]] = {}  # opaque id -> search
        self.requests: list[str] = []  # "METHOD /path?query" of every request received

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
        self.requests.append(f"{method} {path}?{urlencode(query, doseq=True)}")
        parts = [p for p in path.split("/") if p]
        if method == "POST" and len(parts) == 2 and parts[1] == "_search":
            if headers.get("content-type", "").split(";")[0].strip() != FORM:
                return json_reply(415, _outcome("not-supported"))
            posted = parse_qs(body.decode(), keep_blank_values=True)
            for key, values in query.items():
                posted.setdefault(key, []).extend(values)
            return self._search(parts[0], posted, posted=True)
        if method != "GET":
            return json_reply(405, _outcome("not-supported"))
        if not parts and "_getpages" in query:
            resource, search = self.pages.get(query["_getpages"][0], ("", {}))
            if not resource:
                return json_reply(410, _outcome("not-found"))
            offset = query.get("_getpagesoffset", ["0"])
            return self._search(resource, {**search, "_offset": offset}, posted=True)
        if not parts:
            return json_reply(405, _outcome("not-supported"))
        if len(parts) == 2:
            found = self.resources.get(parts[0], {}).get(parts[1])
            return json_reply(200, found) if found else json_reply(404, _outcome("not-found"))
        if any(key.split(":")[0] in IDENTITY_PARAMS for key in query):
            return json_reply(400, _outcome("security"))  # a name or birth date in a URL
        return self._search(parts[0], query, posted=False)

    def _search(self, resource: str, query: dict[str, list[str]], *, posted: bool) -> Reply:
        matches = [r for r in self.resources.get(resource, {}).values() if _matches(r, query)]
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
            search = {k: vs for k, vs in query.items() if k != "_offset"}
            if posted and not self.echo_paging:
                page_id = uuid.uuid4().hex
                self.pages[page_id] = (resource, search)
                url = f"{self.base}?_getpages={page_id}&_getpagesoffset={offset + PAGE}"
            else:
                rest = urlencode({**search, "_offset": [str(offset + PAGE)]}, doseq=True)
                url = f"{self.base}/{resource}?{rest}"
            bundle["link"].append({"relation": "next", "url": url})
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
