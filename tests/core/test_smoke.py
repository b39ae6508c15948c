from __future__ import annotations

from tests.factories.users import RoleClient


async def test_admin_reads_itself(admin_client: RoleClient) -> None:
    response = await admin_client.get("/v1/users/me")
    assert response.status_code == 200
    assert response.json()["id"] == admin_client.user_id
