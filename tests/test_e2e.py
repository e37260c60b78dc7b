"""The contract walked through against a real uvicorn server over HTTP."""

import httpx2

from tests.helpers import JOHN, UNKNOWN


def test_contract_walkthrough_over_http(live_server: str) -> None:
    with httpx2.Client(base_url=live_server, timeout=10) as http:
        assert http.get("/health").json() == {"status": "healthy", "service": "dummy-bank-api"}

        customers = http.get("/customers").json()
        assert len(customers) == 5 and customers[0] == {"customer_oid": JOHN, "name": "John Doe"}

        portfolio = http.get(f"/user-portfolio/{JOHN}").json()
        assert portfolio["portfolio_summary"]["has_data"]["derivatives"] is True
        assert portfolio["bank_accounts"][0]["institution"]["name"] == "Global Bank"

        registered = http.post("/register-customer", json={"name": "Walk Through"})
        assert registered.status_code == 200
        oid = registered.json()["customer_oid"]
        assert (
            http.post(
                "/register-customer", json={"name": "Walk Through", "customer_oid": oid.upper()}
            ).status_code
            == 409
        )
        assert http.get(f"/customer/{oid}/exists").json()["exists"] is True
        assert http.get(f"/user-portfolio/{oid}").json()["portfolio_summary"]["total_assets"] == 0

        deleted = http.delete(f"/customer/{oid}")
        assert deleted.json() == {
            "customer_oid": oid,
            "message": "Customer and all associated data deleted successfully",
        }
        assert http.delete(f"/customer/{oid}").status_code == 404
        assert http.get(f"/user-portfolio/{UNKNOWN}").status_code == 404
        assert http.get("/customer/invalid-oid/exists").status_code == 400
        assert http.post("/register-customer", json={"name": "x"}).status_code == 400
        assert len(http.get("/customers").json()) == 5

        for page in ("/docs", "/redoc", "/openapi.json"):
            assert http.get(page).status_code == 200
