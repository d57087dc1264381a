"""One durable workflow per non-copy request kind (issue 6), on the shared CaseWorkflow base.

Each kind's workflow lives in its own module; this one maps a request kind to its workflow.

- AmendmentWorkflow (workflows.amendment, 164.526)
- RevocationWorkflow (workflows.revocation, 164.508(b)(5))
- ProxyAccessWorkflow (workflows.proxy)
- BillingWorkflow (workflows.billing)
- DataIntegrityWorkflow (workflows.data_integrity): deceased-patient and adoption notifications
- AccountingWorkflow (workflows.accounting, 164.528)
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.types import RequestKind
    from workflows.accounting import AccountingWorkflow
    from workflows.amendment import AmendmentWorkflow
    from workflows.billing import BillingWorkflow
    from workflows.data_integrity import DataIntegrityWorkflow
    from workflows.proxy import ProxyAccessWorkflow
    from workflows.revocation import RevocationWorkflow

__all__ = [
    "CASE_WORKFLOWS",
    "AccountingWorkflow",
    "AmendmentWorkflow",
    "BillingWorkflow",
    "DataIntegrityWorkflow",
    "ProxyAccessWorkflow",
    "RevocationWorkflow",
]

CASE_WORKFLOWS = {
    RequestKind.AMENDMENT: AmendmentWorkflow,
    RequestKind.REVOCATION: RevocationWorkflow,
    RequestKind.PROXY_ACCESS: ProxyAccessWorkflow,
    RequestKind.BILLING: BillingWorkflow,
    RequestKind.DECEASED_NOTICE: DataIntegrityWorkflow,
    RequestKind.ADOPTION_NOTICE: DataIntegrityWorkflow,
    RequestKind.ACCOUNTING: AccountingWorkflow,
}
