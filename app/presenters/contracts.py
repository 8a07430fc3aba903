"""聘任合同台账 as JSON: the register with the filters it was asked for."""

from __future__ import annotations

from app.registers.contracts import ContractRegister


def contract_register_payload(register: ContractRegister) -> dict:
    """today, window, total, counts, due, contracts (each as `ContractEntry.as_dict`), unit, status."""
    return register.as_dict() | {"unit": register.unit_code, "status": register.status}
