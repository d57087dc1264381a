"""Local stand-ins for outside systems (carrier, FHIR server, records), for tests and the demo.

Everything here is synthetic: no real person, no real shipment.
"""
