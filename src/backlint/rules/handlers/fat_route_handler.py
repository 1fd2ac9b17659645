from __future__ import annotations

import textwrap

import libcst as cst

from backlint.diagnostics import Severity
from backlint.engine.context import FileContext
from backlint.rules.base import Example, FileRule, Option
from backlint.rules.handlers.common import module_aliases
from backlint.rules.handlers.metrics import Metrics, measure

_FASTAPI = "from fastapi import APIRouter, Depends, HTTPException\nrouter = APIRouter()\n"


def _routes(code: str) -> str:
    """A snippet of a routes module with its FastAPI imports and router."""
    return _FASTAPI + textwrap.dedent(code)


class FatRouteHandler(FileRule):
    """
    ## What it does
    Measures what a route handler (FastAPI, Django-Ninja, Flask, Django and DRF views)
    does itself, and reports a handler that holds business logic: more statements,
    branches, branches on domain state, loops, arithmetic or collaborator calls than
    the limits allow. The message lists every measure that is over its limit.

    It counts kinds of logic rather than one complexity score:

    - **statements**, nested ones included (not the docstring). A run of assignments
      that copy request input onto an object (`user.name = body.name`,
      `user.email = body.email`) counts as one, like the `setattr` loop or
      `model_copy(update=...)` it could be;
    - **branches**: `if`/`elif`, `case`, ternaries, comprehension `if` clauses and
      `except` clauses. *Guards* are not branches: a block that only raises or returns
      an HTTP error (`HTTPException`, `abort(...)`, `Http404`, `PermissionDenied`, DRF
      and werkzeug exceptions, a `*Response` with a 4xx/5xx status, Flask's
      `return body, 404`) or a redirect (`redirect(...)`, `HttpResponseRedirect`),
      possibly after a log call or a message being built; an `if` whose plain `else`
      is such a block is a guard too. Nor is a test that reads request input alone
      (`if request.method == "POST"`, `if start_date and not end_date`, with the
      input defined below): parsing the request is the handler's job;
    - **domain branches**: branches, guards included, whose test compares domain
      state, an attribute or subscript (or its `len()`), with something other than
      `None`/`True`/`False`/`""` (`order.status == "shipped"`,
      `len(group.users) > 0`). A guard that checks existence (`if x is None`) maps an
      error to HTTP; a guard that checks domain state is a business rule, and the
      message names the first one. These comparisons are not on domain state:
      - on request input: a handler parameter that is not injected (`item.id ==
        item_id` is a lookup, `archive.filename` and `body.role` validate the
        request), request data (`request.GET[...]`, `request.data.get(...)`), a local
        assigned from either (`data = request.get_json()`), Django's
        `form.cleaned_data` and DRF's `validated_data`, and the per-request attributes
        of a class-based view (`self.group_id`, `self.action`);
      - on who is asking: the acting user and what identifies them, their tenant or
        their rights (`request.user`, `current_user.id`, `self.user.group`, Flask's
        `session["id"]`, an injected `user`, a `requesting_member.role`), an owner
        compared with anything but a constant (`item.owner_id != user.id`) and roles
        (`member.role > ROLE.GUEST`). A lone permission or ownership check is
        authorization, which frameworks put in permission classes and dependencies,
        not business logic; for the same reason no comparison in a guard that answers
        401 or 403 counts;
      - plumbing: constants (`OrderStatus.PAID`, `x.MAX_SIZE`), configuration
        (`settings.X`), an HTTP `status_code`, and membership in a collection the
        handler built (`if row.id in seen: continue`);
    - **loops**: `for`/`while`. Comprehensions are not loops, and neither is a `for`
      loop that is one written out: it only fills a list, dict or set
      (`rows.append({...})`, `out[k] = v`), possibly through a filter `if` or a
      `continue`, or copies fields (`setattr(obj, f, form[f])`); or it stops at the
      first match (`if item.id == item_id: return item`) or at the first bad element
      (`if line.cart_id != cart_id: raise HTTPException(400)`), as `next(...)` and
      `any(...)` do. A loop over request input whose body only calls something for
      each item (`for event in request.get_json(): record(event)`) hands the request
      on and is not counted either;
    - **arithmetic**: arithmetic operators and augmented assignments, except on strings
      (also `_("...")`, `str(x)`) and sequence literals;
    - **collaborator calls**: distinct calls on injected (`Depends`) parameters, on
      names or types ending in Service/Repository/Session, and of functions imported
      from service or repository modules: a handler that orchestrates many of them is
      running a use case. Calls that build the returned value
      (`return Stats(users=repo.count_users(), ...)`) read, they do not orchestrate,
      and are not counted; the database session counts as one collaborator however
      many calls the handler makes on it (BL102 reports those).

    HTML builder blocks are markup, not logic: in the body of `with tag.div(...):`,
    `with button(...):` (an HTML element's name, as dominate, tagflow or htpy spell
    them) or of a component wrapping such blocks (`with layout(request):`), only
    collaborator calls are counted; what such a block shows, and when, is a template's
    decision. Nested functions, classes and lambdas are not walked. Loops in websocket
    handlers and in streaming generators are not counted. `get_object_or_404` is a
    guard (it is not a branch at all). Test code is not checked.

    ## Why is this bad?
    A handler's job is transport: parse the request, call one use case, map the result
    or the error to HTTP. Decisions, loops and calculations in the handler cannot be
    reused by a CLI, a worker or another endpoint, and can only be tested through HTTP.
    Handlers that grow this way are where duplicated and inconsistent business rules
    come from.

    ## Example
    ```python
    @router.post("/orders")
    async def create_order(body: CreateOrder, db: Session = Depends(get_db)):
        total = 0
        for line in body.lines:
            total += line.price * line.quantity
        if body.customer.tier == "gold":
            total = total * 0.9
        ...
    ```

    Use instead:
    ```python
    @router.post("/orders")
    async def create_order(body: CreateOrder, orders: OrderService = Depends(order_service)):
        try:
            order = await orders.place(body.to_command())
        except CustomerBlocked as error:
            raise HTTPException(status_code=403, detail=str(error)) from error
        return OrderResponse.from_domain(order)
    ```

    ## How to fix
    Move the decisions, loops and calculations into a service method
    (`OrderService.place()`), and keep the handler to parse → call → map the result or
    exception to HTTP.

    The limits are options (`max-statements`, `max-branches`, `max-domain-branches`,
    `max-loops`, `max-arithmetic`, `max-collaborator-calls`). They were calibrated on
    FastAPI (mealie, dispatch, full-stack-fastapi-template), Flask (redash, CTFd) and
    Django/DRF (netbox, plane, saleor) projects so that the rule reports handlers a
    reviewer would call fat, not every handler with two `if`s. `max-statements` is 15
    rather than 12: linear handlers of 13 to 15 statements (validate, call, record an
    event, return) were thin, while those above 15 did a use case's work. The other
    limits kept their starting values: three branches or any loop that does more than
    fill a list was logic every time, and one comparison of domain state was a
    business rule (ownership, "cannot delete a built-in group", "archived cycles cannot
    change") in almost every sample. Authorization checks used to count as domain
    branches too; on projects the rule was not tuned on, a lone ownership or role check
    in an otherwise thin handler was the commonest finding a reviewer rejected, so
    they are now left to permission classes and dependencies (see above).
    """

    code = "BL101"
    name = "fat-route-handler"
    summary = "A route handler holds business logic instead of delegating to a service."
    fix_text = (
        "Move decisions into `{Resource}Service.<verb>()`; keep the handler to parse → call "
        "→ map result/exception to HTTP."
    )
    severity = Severity.WARNING
    # Below the precision bar on code it was not tuned on (docs/precision.md): it runs
    # when selected by its code or name, or with `preview = true`.
    default_enabled = False
    preview = True
    tags = ("architecture", "AP-PY01", "PQG-3")
    include_tests = False
    options = (
        Option("max-statements", 15, "Most statements a handler may hold, nested ones included."),
        Option("max-branches", 2, "Most branches (guards excluded) a handler may hold."),
        Option(
            "max-domain-branches",
            0,
            "Most branches on domain state (`order.status == ...`) a handler may hold.",
        ),
        Option("max-loops", 0, "Most `for`/`while` loops a handler may hold."),
        Option("max-arithmetic", 1, "Most arithmetic operations a handler may hold."),
        Option(
            "max-collaborator-calls",
            3,
            "Most distinct calls on services, repositories, sessions and injected "
            "dependencies a handler may make.",
        ),
    )
    invalid = (
        Example(
            _routes(
                """
            @router.post("/orders")
            async def create_order(o: CreateOrder, db: Session = Depends(get_db)):
                total = sum(i.price * i.qty for i in o.items)
                if o.customer.tier == "gold":
                    total *= 0.9
                return {"total": total}
            """
            ),
            path="app/routes.py",
            expect=1,
        ),
        Example(
            """
            from flask import Flask
            app = Flask(__name__)
            @app.route("/pay", methods=["POST"])
            def pay():
                for line in cart.lines:
                    charge(line)
                return "ok"
            """,
            path="app/views.py",
        ),
        Example(
            """
            from rest_framework.viewsets import ModelViewSet
            class OrderViewSet(ModelViewSet):
                def create(self, request):
                    if request.user.credit < 0:
                        order.hold()
                    return super().create(request)
            """,
            path="app/views.py",
        ),
        # A guard on domain state is a business rule, even though it only raises.
        Example(
            _routes(
                """
            @router.post("/orders/{id}/ship")
            def ship(id: int, svc: OrderService = Depends(get_svc)):
                order = svc.get(id)
                if order.status == "shipped":
                    raise HTTPException(409)
                return svc.ship(order)
            """
            ),
            path="app/routes.py",
        ),
        # Too many branches, even without domain comparisons.
        Example(
            _routes(
                """
            @router.get("/report")
            def report(svc: ReportService = Depends(get_svc)):
                summary = svc.summary()
                if summary.ready:
                    data = svc.a()
                elif summary.stale:
                    data = svc.b()
                else:
                    data = None
                return data if data else {}
            """
            ),
            path="app/routes.py",
        ),
        # ``len()`` of domain state in a guard is a business rule too.
        Example(
            _routes(
                """
            @router.delete("/groups/{id}")
            def delete_group(id: int, svc: GroupService = Depends(get_svc)):
                group = svc.get(id)
                if len(group.users) > 0:
                    raise HTTPException(400, "Cannot delete a group with users")
                svc.delete(id)
            """
            ),
            path="app/routes.py",
        ),
        # Past the authorization and lookup checks, a rule on the order's state: the
        # message names it.
        Example(
            _routes(
                """
            @router.post("/orders/{order_id}/refund")
            def refund(order_id: int, current_user: CurrentUser, orders: OrderService):
                order = orders.get(order_id)
                if order.customer_id != current_user.id:
                    raise HTTPException(404)
                if order.refunded_amount >= order.net_amount:
                    raise HTTPException(409, "Already refunded")
                return orders.refund(order)
            """
            ),
            path="app/routes.py",
        ),
        # Orchestrating four collaborators is a use case.
        Example(
            _routes(
                """
            from app.services import billing, stock, mail, audit
            @router.post("/checkout")
            def checkout(cart_id: int):
                billing.charge(cart_id)
                stock.reserve(cart_id)
                mail.confirm(cart_id)
                audit.record(cart_id)
            """
            ),
            path="app/routes.py",
        ),
    )
    valid = (
        Example(
            _routes(
                """
            @router.get("/orders/{id}")
            async def get(id: int, svc: OrderService = Depends(get_svc)):
                order = await svc.get(id)
                if order is None:
                    raise HTTPException(404)
                return OrderResponse.model_validate(order)
            """
            ),
            path="app/routes.py",
        ),
        Example(
            _routes(
                """
            @router.get("/orders")
            def list_(svc=Depends(get_svc)):
                return [OrderResponse.from_domain(o) for o in svc.list()]
            """
            ),
            path="app/routes.py",
        ),
        # Loops in websocket handlers are the transport itself.
        Example(
            _routes(
                """
            @router.websocket("/ws")
            async def ws(s: WebSocket):
                while True:
                    await svc.handle(await s.receive_text())
            """
            ),
            path="app/routes.py",
        ),
        # A nested streaming generator is not walked.
        Example(
            """
            from flask import Flask, Response
            app = Flask(__name__)
            @app.route("/export")
            def export():
                def generate():
                    for row in rows():
                        yield row.total * row.rate + 1
                return Response(generate())
            """,
            path="app/views.py",
        ),
        # Guards: existence checks, except clauses mapping errors, Flask's error tuples,
        # error responses, `get_object_or_404`.
        Example(
            """
            from flask import Flask, abort, request
            app = Flask(__name__)
            @app.route("/items/<id>", methods=["POST"])
            def update(id):
                data = request.get_json()
                if not data:
                    return {"error": "empty"}, 400
                if "name" not in data:
                    abort(422)
                try:
                    item = items.update(id, data)
                except KeyError:
                    abort(404)
                except ValueError as error:
                    log.warning("bad value: %s", error)
                    return {"error": str(error)}, 400
                return item
            """,
            path="app/views.py",
        ),
        Example(
            """
            from django.shortcuts import get_object_or_404, render
            from django.http import HttpResponseForbidden
            from rest_framework.decorators import api_view
            from rest_framework.response import Response
            from rest_framework import status
            @api_view(["POST"])
            def approve(request, pk):
                doc = get_object_or_404(Document, pk=pk)
                if not request.user.has_perm("approve", doc):
                    return HttpResponseForbidden()
                if request.method == "POST":
                    serializer = DocumentSerializer(doc, data=request.data)
                    if not serializer.is_valid():
                        return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
                    serializer.save()
                return Response(serializer.data)
            """,
            path="app/views.py",
        ),
        # A loop that only fills a list, request plumbing, configuration and constants.
        Example(
            """
            from flask import Flask, abort, request
            app = Flask(__name__)
            @app.route("/tags", methods=["GET", "HEAD"])
            def tags():
                if settings.TAGS_MODE == "off" or Feature.TAGS.value == "off":
                    abort(404)
                if request.method == "HEAD":
                    return ""
                rows = []
                for tag in tag_service.all():
                    label = tag.name.title()
                    rows.append({"id": tag.id, "label": label})
                return {"tags": rows}
            """,
            path="app/views.py",
        ),
        # Two fields of the request body compared: input validation.
        Example(
            _routes(
                """
            @router.patch("/me/password")
            def update_password(body: UpdatePassword, users: UserService = Depends(get_svc)):
                if body.new_password == body.current_password:
                    raise HTTPException(400, "New password must differ")
                return users.change_password(body.current_password, body.new_password)
            """
            ),
            path="app/routes.py",
        ),
        # String building is not arithmetic.
        Example(
            _routes(
                """
            @router.get("/greet")
            def greet(name: str, title: str):
                text = "Hello " + title + " " + name
                return {"text": text + "!", "path": "/greet/" + name}
            """
            ),
            path="app/routes.py",
        ),
        # Authorization: an ownership check against the acting user, a role check, and
        # any comparison in a guard that answers 403.
        Example(
            _routes(
                """
            @router.delete("/items/{item_id}")
            def delete_item(item_id: int, current_user: CurrentUser, items: ItemService):
                item = items.get(item_id)
                if item is None:
                    raise HTTPException(404)
                if item.owner_id != current_user.id and not current_user.is_superuser:
                    raise HTTPException(404, "Item not found")
                if item.workspace.plan == "frozen":
                    raise HTTPException(status.HTTP_403_FORBIDDEN)
                items.delete(item)
            """
            ),
            path="app/routes.py",
        ),
        Example(
            """
            from rest_framework import status
            from rest_framework.response import Response
            from rest_framework.views import APIView
            class MemberView(APIView):
                def delete(self, request, pk):
                    member = members.get(pk)
                    requesting_member = members.of_user(request.user)
                    if requesting_member.role < member.role:
                        return Response({"error": "role"}, status=status.HTTP_400_BAD_REQUEST)
                    if member.created_by == request.user:
                        return Response(status=status.HTTP_400_BAD_REQUEST)
                    members.deactivate(member)
                    return Response(status=status.HTTP_204_NO_CONTENT)
            """,
            path="app/views.py",
        ),
        # Request input compared with what is stored: a lookup, validation of the
        # upload, an optimistic-lock check; ``self.household_id`` is per-request state
        # of a class-based controller.
        Example(
            _routes(
                """
            class Controller:
                @router.put("/lists/{list_id}")
                def update(self, list_id: int, upload: UploadFile, body: ListUpdate):
                    if upload.filename.split(".")[-1] != "csv":
                        raise HTTPException(400)
                    shopping_list = self.lists.get(list_id)
                    if body.version != shopping_list.version:
                        raise HTTPException(409)
                    if shopping_list.household_id != self.household_id:
                        raise HTTPException(400)
                    return self.lists.update(shopping_list, body)
            """
            ),
            path="app/routes.py",
        ),
        # A lookup loop (``next(...)`` written out) and a ``setattr`` copy loop
        # (a comprehension written out).
        Example(
            """
            from flask import Flask, abort, request
            app = Flask(__name__)
            @app.route("/boards/<int:board_id>/cards/<int:card_id>", methods=["PATCH"])
            def patch_card(board_id, card_id):
                board = boards.get(board_id)
                for candidate in board.cards:
                    if candidate.id == card_id:
                        card = candidate
                        break
                else:
                    abort(404)
                data = request.get_json()
                for field in ("title", "description", "due"):
                    if field in data:
                        setattr(card, field, data[field])
                return boards.save(board)
            """,
            path="app/views.py",
        ),
        # Markup built with an HTML builder decides what to show, not what to do.
        Example(
            _routes(
                """
            @router.get("/orders/{id}")
            async def order_page(request: Request, id: int, orders: OrderService):
                order = await orders.get(id)
                with layout(request, "Order"):
                    with tag.div(classes="flex"):
                        with tag.h1():
                            text(f"Order {order.number}")
                        if order.status == OrderStatus.pending:
                            with button(hx_post="/retry"):
                                text("Retry payment")
                        for line in order.lines:
                            with tag.li():
                                text(f"{line.quantity} x {line.price * line.quantity}")
            """
            ),
            path="app/routes.py",
        ),
        # Reading counts into the response is not orchestrating a use case.
        Example(
            _routes(
                """
            @router.get("/statistics")
            def statistics(repos: AllRepositories = Depends(get_repositories)):
                return Statistics(
                    recipes=repos.recipes.count_all(),
                    users=repos.users.count_all(),
                    groups=repos.groups.count_all(),
                    households=repos.households.count_all(),
                )
            """
            ),
            path="app/routes.py",
        ),
        # Parsing the request: optional filters and the method; redirects as guards.
        Example(
            """
            from flask import Flask, redirect, render_template, request
            app = Flask(__name__)
            @app.route("/plans", methods=["GET", "POST"])
            def plans(start=None, end=None):
                if not current_user.is_authenticated:
                    return redirect("/login")
                if request.method == "POST" and request.form.get("name"):
                    plans_service.create(request.form["name"])
                if start and end:
                    query = f"date >= {start} AND date <= {end}"
                elif start:
                    query = f"date >= {start}"
                else:
                    query = None
                return render_template("plans.html", plans=plans_service.search(query))
            """,
            path="app/views.py",
        ),
        # CRUD on one session, and the request's events handed on one by one.
        Example(
            _routes(
                """
            @router.put("/items/{id}")
            def update_item(id: int, body: ItemUpdate, session: SessionDep, events: EventBus):
                item = session.get(Item, id)
                if item is None:
                    raise HTTPException(404)
                item.sqlmodel_update(body.model_dump(exclude_unset=True))
                session.add(item)
                session.commit()
                session.refresh(item)
                for event in body.events:
                    events.publish(event)
                return item
            """
            ),
            path="app/routes.py",
        ),
        # Not a handler: the same logic in a service is where it belongs.
        """
        def create_order(o, db):
            total = 0
            for line in o.lines:
                total += line.price * line.qty
            if o.customer.tier == "gold":
                total *= 0.9
            return total
        """,
        # Test code is not checked.
        Example(
            _routes(
                """
            @router.get("/fake")
            def fake():
                for i in range(3):
                    print(i * 2 + 1)
            """
            ),
            path="tests/test_app.py",
        ),
    )

    def applies_to(self, ctx: FileContext) -> bool:
        return bool(ctx.handlers) and super().applies_to(ctx)

    def begin_file(self, ctx: FileContext) -> None:
        super().begin_file(ctx)
        self._aliases: dict[str, cst.BaseExpression] | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        handler = self.ctx.handlers.get(id(node))
        if handler is None:
            return
        if self._aliases is None:
            self._aliases = module_aliases(self.ctx.tree)
        exceeded = self._exceeded(measure(handler, self.ctx, self._aliases))
        if exceeded:
            self.report(
                node.name,
                f"Route handler `{handler.qualname}` holds business logic: " + ", ".join(exceeded),
                conditions=handler.requires,
            )

    def _exceeded(self, metrics: Metrics) -> list[str]:
        domain = ""
        if metrics.domain_tests:
            domain = f" (`{metrics.domain_tests[0]}`)"
        measures = (
            ("max-statements", metrics.statements, "statement", "statements"),
            ("max-branches", metrics.branches, "branch", "branches"),
            (
                "max-domain-branches",
                metrics.domain_branches,
                "branch on domain state" + domain,
                "branches on domain state" + domain,
            ),
            ("max-loops", metrics.loops, "loop", "loops"),
            ("max-arithmetic", metrics.arithmetic, "arithmetic operation", "arithmetic operations"),
            (
                "max-collaborator-calls",
                metrics.collaborator_calls,
                "collaborator call",
                "collaborator calls",
            ),
        )
        found: list[str] = []
        for option, value, singular, plural in measures:
            limit = self.option(option)
            if isinstance(limit, int) and value > limit:
                found.append(f"{value} {singular if value == 1 else plural} (max {limit})")
        return found
