"""`anshin line setup`: put the planned rich menus on the LINE account, idempotently, with the SDK's typed API.

Given the plans (``bot.ops.richmenu.plan_menus``: each a RichMenuRequest with a name carrying a digest, and its
picture), setup: creates each planned menu that the account does not have by that name and uploads its picture
(a menu whose picture fails is deleted again, so a half-made menu never stays); points each alias
(``anshin-<locale>``, ``anshin-lang``) at its menu, creating or updating it; makes the first plan (the default
language's menu) the account's default; then deletes Anshin's menus that no plan names (older content), never
another's. Run again with the same content, it changes nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    AsyncMessagingApiBlob,
    Configuration,
    CreateRichMenuAliasRequest,
    RichMenuRequest,
    UpdateRichMenuAliasRequest,
)

__all__ = ["NAME_PREFIX", "Plan", "apply_plans"]

NAME_PREFIX = "anshin:"  # every rich menu Anshin makes is named so; no other is touched


class Plan(Protocol):
    """A menu to have: its alias, its RichMenuRequest JSON (named ``anshin:...``) and its picture (PNG)."""

    @property
    def alias(self) -> str: ...
    @property
    def request(self) -> dict[str, Any]: ...
    @property
    def image(self) -> bytes: ...
    @property
    def name(self) -> str: ...


async def apply_plans(plans: list[Plan], access_token: str, base: str | None = None,
                      timeout: float = 30.0) -> list[str]:
    """Make the account's rich menus match ``plans``; one line per step taken or kept."""
    client = AsyncApiClient(Configuration(host=base.rstrip("/") if base else None, access_token=access_token))
    api, blob = AsyncMessagingApi(client), AsyncMessagingApiBlob(client)
    done: list[str] = []
    try:
        existing = {menu.name: menu.rich_menu_id for menu in (await api.get_rich_menu_list(
            _request_timeout=timeout)).richmenus}
        ids: dict[str, str] = {}
        for plan in plans:
            if plan.name in existing:
                ids[plan.alias] = existing[plan.name]
                done.append(f"kept    {plan.name}")
                continue
            created = await api.create_rich_menu(RichMenuRequest.from_dict(plan.request), _request_timeout=timeout)
            try:
                await blob.set_rich_menu_image(created.rich_menu_id, plan.image, _headers={"Content-Type": "image/png"},
                                               _request_timeout=timeout)
            except ApiException:
                await api.delete_rich_menu(created.rich_menu_id, _request_timeout=timeout)
                raise
            ids[plan.alias] = created.rich_menu_id
            done.append(f"created {plan.name}")
        aliases = {a.rich_menu_alias_id: a.rich_menu_id for a in (await api.get_rich_menu_alias_list(
            _request_timeout=timeout)).aliases}
        for alias, menu_id in ids.items():
            if aliases.get(alias) == menu_id:
                continue
            if alias in aliases:
                await api.update_rich_menu_alias(alias, UpdateRichMenuAliasRequest(richMenuId=menu_id),
                                                 _request_timeout=timeout)
            else:
                await api.create_rich_menu_alias(CreateRichMenuAliasRequest(richMenuAliasId=alias, richMenuId=menu_id),
                                                 _request_timeout=timeout)
            done.append(f"alias   {alias}")
        default = ids[plans[0].alias]
        try:
            current = (await api.get_default_rich_menu_id(_request_timeout=timeout)).rich_menu_id
        except ApiException as error:
            if error.status != 404:
                raise
            current = None
        if current != default:
            await api.set_default_rich_menu(default, _request_timeout=timeout)
            done.append(f"default {plans[0].name}")
        planned = {plan.name for plan in plans}
        for name, menu_id in existing.items():
            if name.startswith(NAME_PREFIX) and name not in planned:
                await api.delete_rich_menu(menu_id, _request_timeout=timeout)
                done.append(f"deleted {name}")
    finally:
        await client.close()
    return done
