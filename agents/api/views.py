"""The API's endpoints. Each loads through the shared QuerySet methods and ``agents.catalog``,
checks through ``agents.permissions`` (404 for an agent the caller may not see, as the pages),
validates with the format module and moves agents only through ``agents.workflow``."""

from __future__ import annotations

import copy
import re
from typing import Any

from django.db import IntegrityError
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from .. import agentfile, catalog, editing, filebridge, importing, permissions, uploads, workflow
from ..agentfile import BodyPart
from ..distribution import files, responses
from ..editing import Draft
from ..forms.activity import ActivityFilterForm
from ..forms.agent import FORM_FIELD_FOR_KEY
from ..forms.catalog import CatalogForm
from ..forms.imports import ImportUploadForm
from ..models import Agent, Collection, Event, Revision, Tool
from ..workflow import StaleEdit
from . import serializers as s
from .errors import Problem
from .permissions import CanAuthor, CanEdit, SignedIn

ETAG_RE = re.compile(r'^\s*(?:W/)?"r(\d+)"\s*$')
NOT_FOUND = "No agent by that name."


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses an endpoint documents, each a JSON ``{"detail": ...}``."""
    meaning = {
        400: "invalid input: the message says which field and why",
        401: "not signed in, or the token cannot be used (the message says why)",
        403: "signed in but not allowed; a read token asked to change something",
        404: "no such agent, or one the caller may not see",
        409: "the workflow refuses the step now (the message says why)",
        412: "If-Match names an older revision: the current revision and a diff",
        428: "If-Match is missing",
        429: "too many requests: wait the seconds Retry-After says",
    }
    found = {code: OpenApiResponse(s.ErrorSerializer, description=meaning[code]) for code in codes}
    if 412 in found:
        found[412] = OpenApiResponse(s.StaleSerializer, description=meaning[412])
    return found


READ_ERRORS = (401, 403, 404, 429)


class Cursor(CursorPagination):
    """Cursor pagination: a client walking every page never sees a row twice or skips one."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")


class AgentCursor(Cursor):
    """The catalog's order (``catalog.sort_key``), annotated as ``sort_key`` so the cursor can
    hold a position in it."""

    ordering = ("sort_key", "pk")

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        return getattr(view, "cursor_ordering", self.ordering)


class RevisionCursor(Cursor):
    ordering = ("-number",)


class CollectionCursor(Cursor):
    ordering = ("slug",)


# --- agents, as the caller sees them --------------------------------------------------------


def load_agent(request: Request, name: str) -> Agent:
    """The agent an address names, with all it shows, if the caller may see it (else 404)."""
    agent = (
        Agent.objects.for_export()
        .for_workflow()
        .select_related("owner", "published_revision", "latest_revision")
        .at_address(name)
        .first()
    )
    if agent is None or not permissions.can_view(request.user, agent):
        raise Http404(NOT_FOUND)
    return agent


def shown_number(agent: Agent, user: Any) -> int:
    """The revision the caller sees: the latest to those who may see drafts, else the
    published one. It is the agent's ETag (``"r<N>"``)."""
    if permissions.can_see_drafts(user, agent):
        return agent.latest_revision.number if agent.latest_revision else 0
    return agent.published_revision.number


def etag(number: int) -> str:
    return f'"r{number}"'


def detail_data(agent: Agent, request: Request) -> dict[str, Any]:
    user = request.user
    sees = permissions.can_see_drafts(user, agent)
    published = agent.published_revision
    draft = Draft.of(agent) if sees else editing.from_file(agent, published.text)
    shown_revision = agent.latest_revision if sees else published  # what lint is said about
    shown = draft.agent
    sections, steps = s.body_data(draft.parts)
    data = {field: getattr(shown, field) for field in (*s.TEXT_FIELDS, *s.JSON_FIELDS)}
    data.update(
        {
            "slug": agent.slug,
            "path": agent.path,
            "tools": list(draft.tools),
            "disallowed_tools": list(shown.disallowed_tools or []),
            "max_turns": shown.max_turns,
            "background": shown.background,
            "sections": sections,
            "steps": steps,
            "state": agent.status if sees else "published",
            "owner": agent.owner.get_username() if agent.owner else "",
            "maintainers": [m.get_username() for m in agent.maintainers.all()] if sees else [],
            "published_revision": published.number if published else None,
            "latest_revision": (
                agent.latest_revision.number if sees and agent.latest_revision else None
            ),
            "allowed_actions": workflow.allowed_actions(agent, user),
            **lint_counts(shown_revision),
            "lint_findings": shown_revision.lint_findings if shown_revision else [],
            "created_at": agent.created_at,
            "changed_at": agent.updated_at if sees else published.created_at,
            "url": request.build_absolute_uri(api_url("api:agent", agent)),
            "file_url": request.build_absolute_uri(api_url("api:agent-file", agent)),
        }
    )
    return s.AgentDetailSerializer(data).data


def lint_counts(revision: Revision | None) -> dict[str, int]:
    """What lint said about the revision shown (stored with it when it was recorded)."""
    return {
        "lint_errors": revision.lint_errors if revision else 0,
        "lint_warnings": revision.lint_warnings if revision else 0,
    }


def api_url(view: str, agent: Agent) -> str:
    return reverse(view, kwargs={"name": agent.slug})


def summary_data(agent: Agent, request: Request) -> dict[str, Any]:
    published = agent.published_revision
    if agent.sees_drafts:
        latest = agent.latest_revision
        data = {
            "name": agent.name,
            "description": agent.description,
            "tools": [entry.name for entry in agent.tool_entries.all()],
            "model": agent.model,
            "color": agent.color,
            "state": agent.status,
            "latest_revision": latest.number if latest else None,
            "changed_at": agent.updated_at,
            **lint_counts(latest),
        }
    else:
        data = {
            "name": published.name,
            "description": published.description,
            "tools": list(published.tools),
            "model": published.model,
            "color": published.color,
            "state": "published",
            "latest_revision": None,
            "changed_at": published.created_at,
            **lint_counts(published),
        }
    data.update(
        {
            "slug": agent.slug,
            "path": agent.path,
            "owner": agent.owner.username if agent.owner else "",
            "published_revision": published.number if published else None,
            "url": request.build_absolute_uri(api_url("api:agent", agent)),
            "file_url": request.build_absolute_uri(api_url("api:agent-file", agent)),
        }
    )
    return data


def with_etag(response: Response, number: int) -> Response:
    response["ETag"] = etag(number)
    return response


def changed(draft: Draft, data: dict[str, Any]) -> Draft:
    """The draft with what a request sent: each field given replaces the draft's; tools,
    sections and steps are whole ordered lists."""
    agent = copy.copy(draft.agent)
    for field in (*s.TEXT_FIELDS, "path"):
        if field in data:
            setattr(agent, field, data[field] or "")
    for field in ("max_turns", "background", "skills", "mcp_servers", "hooks"):
        if field in data:
            setattr(agent, field, data[field])
    if "disallowed_tools" in data:
        agent.disallowed_tools = list(data["disallowed_tools"])
    if "extra_frontmatter" in data:
        agent.extra_frontmatter = data["extra_frontmatter"] or None
    tools = list(data["tools"]) if "tools" in data else list(draft.tools)
    return Draft(agent, tools, s.body_from(data, draft.parts))


def check(draft: Draft, agent: Agent | None, data: dict[str, Any]) -> None:
    """Refuse (400) a draft that breaks a rule of the file (``agentfile.validate``, strict: the
    rule of the editor and the admin), takes another agent's name or path, or is too large."""
    found, _ = agentfile.validate(
        filebridge.frontmatter(draft.agent, draft.tools), Tool.registry(), strict=True
    )
    if found:
        listed = [
            {
                "field": FORM_FIELD_FOR_KEY.get(error.field or "", error.field),
                "detail": error.message,
            }
            for error in found
        ]
        raise Problem(400, listed[0]["detail"], listed[0]["field"], errors=listed)
    name = draft.agent.name
    others = Agent.objects.exclude(pk=agent.pk) if agent else Agent.objects.all()
    if others.filter(name=name).exists():
        raise Problem(400, "Another agent already has this name: choose another one.", "name")
    clash = draft.agent.published_name_clash(name)
    if clash:
        raise Problem(400, clash, "name")
    if data.get("path"):
        refusal = files.path_refusal(data["path"], agent)
        if refusal:
            raise Problem(400, refusal, "path")
    size = len(draft.render().encode())
    if size > agentfile.MAX_FILE_BYTES:
        raise Problem(
            400, f"The file would be {size:,} bytes; at most {agentfile.MAX_FILE_BYTES:,}."
        )


def base_revision(request: Request) -> int:
    """The revision an update was made from, as its If-Match says (428 without one)."""
    header = request.headers.get("If-Match")
    if not header:
        raise Problem(
            428,
            'Send If-Match with the agent\'s ETag (for example If-Match: "r3"): the revision '
            "your change is based on, so that nobody's change is overwritten unseen.",
            "If-Match",
        )
    match = ETAG_RE.match(header)
    if match is None:
        raise Problem(
            400, f'If-Match takes the agent\'s ETag, such as "r3"; not {header[:40]}', "If-Match"
        )
    return int(match.group(1))


def stale(agent: Agent, base: int, message: str = "", diff: str | None = None) -> Problem:
    latest = agent.revisions.order_by("-number").first()
    number = latest.number if latest else 0
    if diff is None:
        old = agent.revisions.filter(number=base).values_list("text", flat=True).first() or ""
        diff = agentfile.unified_diff(
            old,
            latest.text if latest else "",
            f"revision {base} (yours)",
            f"revision {number} (current)",
        )
    return Problem(
        412,
        message
        or f"{agent.name} changed since revision {base}: it is at revision {number} now. "
        "Nothing was saved; look at the diff, then send your change again with "
        f'If-Match: "r{number}".',
        "If-Match",
        current_revision=number,
        diff=diff,
    )


AGENT_LIST_PARAMETERS = [
    OpenApiParameter("q", str, description="Search name, description and prompt."),
    OpenApiParameter(
        "state", str, description="draft, in_review, approved, changes_requested, archived"
    ),
    OpenApiParameter("tool", str, description="A tool the agent lists (mcp__: any MCP tool)."),
    OpenApiParameter("model", str, description="A model alias, or id: any full model id."),
    OpenApiParameter("color", str, description="A colour."),
    OpenApiParameter("owner", str, description="The owner's username."),
    OpenApiParameter(
        "lint",
        str,
        enum=list(catalog.LINT_FILTERS),
        description="warnings: the revision shown has lint warnings or errors; errors: errors.",
    ),
    OpenApiParameter("sort", str, enum=list(catalog.SORTS), description="Default: name."),
]
NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, description="The agent's slug.")


class AgentViewSet(ViewSet):
    """Agents: list (``index``: answers a cursor page, not a bare list), retrieve, create,
    update (PATCH); no delete (agents are archived)."""

    permission_classes = [SignedIn]
    parser_classes = [JSONParser]  # ordered lists of objects: JSON only
    lookup_field = "name"

    def get_permissions(self) -> list[Any]:
        if self.action == "create":
            return [SignedIn(), CanAuthor()]
        if self.action == "partial_update":
            return [SignedIn(), CanEdit()]
        return super().get_permissions()

    @extend_schema(
        summary="List agents",
        operation_id="agents_list",
        description="The catalog's search, filters and sort, a page at a time (cursor).",
        parameters=AGENT_LIST_PARAMETERS,
        responses={200: s.page_of(s.AgentSummarySerializer), **errors(400, *READ_ERRORS)},
    )
    def index(self, request: Request) -> Response:
        user = request.user
        form = CatalogForm(
            request.query_params,
            registry=Tool.registry(),
            with_states=permissions.sees_any_drafts(user),
        )
        if not form.is_valid():
            field, messages = next(iter(form.errors.items()))
            raise Problem(400, f"{field}: {' '.join(messages)}", field)
        chosen = form.filters()
        selected = catalog.listing(user, chosen)
        key, descending = catalog.sort_key(user, chosen.get("sort", "name"))
        self.cursor_ordering = ("-sort_key", "-pk") if descending else ("sort_key", "pk")
        paginator = AgentCursor()
        page = paginator.paginate_queryset(
            selected.ordered.annotate(sort_key=key).only("pk"), request, view=self
        )
        agents = catalog.page_of_agents(user, [agent.pk for agent in page])
        prefetch_related_objects([a for a in agents if a.sees_drafts], "tool_entries")
        return paginator.get_paginated_response([summary_data(a, request) for a in agents])

    @extend_schema(
        summary="One agent",
        description="All its fields, tools, sections and steps in order. The ETag names the "
        'revision shown ("r3"): send it back as If-Match to update.',
        parameters=[NAME],
        responses={200: s.AgentDetailSerializer, **errors(*READ_ERRORS)},
    )
    def retrieve(self, request: Request, name: str) -> Response:
        agent = load_agent(request, name)
        return with_etag(Response(detail_data(agent, request)), shown_number(agent, request.user))

    @extend_schema(
        summary="Create an agent",
        description="A new draft owned by the caller (author role). Answers the agent.",
        request=s.AgentWriteSerializer,
        responses={201: s.AgentDetailSerializer, **errors(400, 401, 403, 429)},
    )
    def create(self, request: Request) -> Response:
        serializer = s.AgentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        blank = Draft(Agent(owner=request.user), [], [BodyPart(markdown="")])
        draft = changed(blank, data)
        check(draft, None, data)
        try:
            editing.create(draft, request.user, data.get("change_note", ""))
        except IntegrityError as taken:
            raise Problem(
                400, "Another agent already has this name: choose another one.", "name"
            ) from taken
        agent = load_agent(request, draft.agent.slug)
        response = Response(detail_data(agent, request), status=status.HTTP_201_CREATED)
        response["Location"] = api_url("api:agent", agent)
        return with_etag(response, shown_number(agent, request.user))

    @extend_schema(
        summary="Change an agent",
        description="Send only what changes (tools, sections and steps as whole ordered "
        'lists) with If-Match: the ETag of the revision you changed ("r3"). A stale one gets '
        "412 with the current revision and a diff; nothing is overwritten silently.",
        parameters=[
            NAME,
            OpenApiParameter(
                "If-Match", str, OpenApiParameter.HEADER, required=True, description='"r<N>"'
            ),
        ],
        request=s.AgentWriteSerializer,
        responses={200: s.AgentDetailSerializer, **errors(400, *READ_ERRORS, 409, 412, 428)},
    )
    def partial_update(self, request: Request, name: str) -> Response:
        agent = load_agent(request, name)
        self.check_object_permissions(request, agent)
        serializer = s.AgentWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        base = base_revision(request)
        latest = agent.latest_revision.number if agent.latest_revision else 0
        if base != latest:
            raise stale(agent, base)
        workflow.check_editable(agent)
        prefetch_related_objects([agent], "tool_entries", "sections", "steps")
        draft = changed(Draft.of(agent), data)
        check(draft, agent, data)
        try:
            editing.update(agent, draft, request.user, data.get("change_note", ""), base)
        except StaleEdit as conflict:
            raise stale(agent, base, str(conflict), conflict.diff) from conflict
        except IntegrityError as taken:
            raise Problem(
                400, "Another agent already has this name: choose another one.", "name"
            ) from taken
        agent = load_agent(request, draft.agent.slug)
        return with_etag(Response(detail_data(agent, request)), shown_number(agent, request.user))


class AgentFileView(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="An agent's file",
        description="The published file as text/markdown; ?revision=N a revision you may see; "
        "?draft=1 the working copy (for those who may see drafts).",
        parameters=[
            NAME,
            OpenApiParameter("revision", int, description="A revision number."),
            OpenApiParameter("draft", bool, description="The working copy."),
        ],
        responses={
            (200, "text/markdown"): OpenApiResponse(OpenApiTypes.STR, description="the file"),
            **errors(400, *READ_ERRORS),
        },
    )
    def get(self, request: Request, name: str) -> HttpResponse:
        agent = load_agent(request, name)
        if "revision" in request.query_params:
            number = positive(request.query_params["revision"], "revision")
            return responses.revision_response(request._request, agent, number)
        if request.query_params.get("draft") in ("1", "true"):
            if not permissions.can_see_drafts(request.user, agent):
                raise Http404(f"{agent.name} has no draft you can see.")
            return responses.private(responses.file_response(agent.path, filebridge.render(agent)))
        if not agent.is_downloadable:
            raise Http404(f"{agent.name} has no published file.")
        published = agent.published_revision
        return responses.revalidated(
            responses.file_response(agent.path, published.text, published.sha256)
        )


def positive(value: str, field: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise Problem(400, f"{field} takes a revision number: 1, 2, 3...", field)
    return int(value)


class RevisionViewSet(ViewSet):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="An agent's revisions",
        operation_id="agents_revisions_list",
        description="Newest first; those who may not see drafts see the published ones.",
        parameters=[NAME],
        responses={200: s.page_of(s.RevisionSerializer), **errors(*READ_ERRORS)},
    )
    def index(self, request: Request, name: str) -> Response:
        agent = load_agent(request, name)
        paginator = RevisionCursor()
        page = paginator.paginate_queryset(
            permissions.visible_revisions(agent, request.user).for_history().defer("text"),
            request,
            self,
        )
        return paginator.get_paginated_response(s.RevisionSerializer(page, many=True).data)

    @extend_schema(
        summary="One revision",
        parameters=[NAME, OpenApiParameter("number", int, OpenApiParameter.PATH)],
        responses={200: s.RevisionDetailSerializer, **errors(*READ_ERRORS)},
    )
    def retrieve(self, request: Request, name: str, number: int) -> Response:
        agent = load_agent(request, name)
        revision = (
            permissions.visible_revisions(agent, request.user).for_history().filter(number=number)
        )
        found = revision.first()
        if found is None:
            raise Http404(f"{agent.name} has no revision {number} that you can see.")
        return Response(s.RevisionDetailSerializer(found).data)


class DiffView(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="Diff between two revisions",
        description="A unified diff (text/x-diff) from revision ``from`` to revision ``to``.",
        parameters=[
            NAME,
            OpenApiParameter("from", int, required=True),
            OpenApiParameter("to", int, required=True),
        ],
        responses={
            (200, "text/x-diff"): OpenApiResponse(OpenApiTypes.STR, description="the diff"),
            **errors(400, *READ_ERRORS),
        },
    )
    def get(self, request: Request, name: str) -> HttpResponse:
        agent = load_agent(request, name)
        numbers = [positive(request.query_params.get(key, ""), key) for key in ("from", "to")]
        found = dict(
            permissions.visible_revisions(agent, request.user)
            .filter(number__in=numbers)
            .values_list("number", "text")
        )
        for number in numbers:
            if number not in found:
                raise Http404(f"{agent.name} has no revision {number} that you can see.")
        old, new = numbers
        diff = agentfile.unified_diff(found[old], found[new], f"revision {old}", f"revision {new}")
        return HttpResponse(diff, content_type="text/x-diff; charset=utf-8")


class ActionView(APIView):
    """A workflow step on an agent (``workflow.TRANSITIONS``); answers the event recorded."""

    permission_classes = [SignedIn]
    parser_classes = [JSONParser]
    action_name = ""

    def post(self, request: Request, name: str) -> Response:
        agent = load_agent(request, name)
        serializer = s.ActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rule = workflow.TRANSITIONS[self.action_name]
        comment = data.get("comment", "")
        if rule.needs_comment and not comment.strip():
            raise Problem(
                400, f"Say what has to change: a comment is required to {rule.verb} it.", "comment"
            )
        number = data.get("revision")
        if self.action_name == Event.Action.APPROVE and number is None:
            raise Problem(
                400,
                'Name the revision you approve: {"revision": N}, the number you reviewed.',
                "revision",
            )
        event = workflow.transition(
            agent, self.action_name, request.user, comment=comment, revision_number=number
        )
        event = Event.objects.for_trail().get(pk=event.pk)
        return Response(s.EventSerializer(event).data)


def action_view(action: str, summary: str, description: str) -> Any:
    """The view of one workflow action, described for the schema."""

    def post(self: ActionView, request: Request, name: str) -> Response:
        return ActionView.post(self, request, name)

    # A function of its own per action: the schema's description is kept on the function.
    described = extend_schema(
        summary=summary,
        description=description,
        parameters=[NAME],
        request=s.ActionSerializer,
        responses={200: s.EventSerializer, **errors(400, *READ_ERRORS, 409)},
        operation_id=f"agents_{action}",
    )(post)
    view = type(
        f"{action.title().replace('_', '')}View",
        (ActionView,),
        {"action_name": action, "post": described},
    )
    return view.as_view()


class EventList(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="The audit trail",
        description="Newest first, of the agents the caller may see (drafts' entries only to "
        "those who may see the drafts).",
        parameters=[
            OpenApiParameter("agent", str, description="Part of the agent's name."),
            OpenApiParameter("actor", str, description="A username."),
            OpenApiParameter("action", str, enum=list(Event.Action.values)),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
        ],
        responses={200: s.page_of(s.EventSerializer), **errors(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        form = ActivityFilterForm(request.query_params)
        if not form.is_valid():
            field, messages = next(iter(form.errors.items()))
            raise Problem(400, f"{field}: {' '.join(messages)}", field)
        events = form.apply(permissions.visible_events(request.user, Event.objects.all()))
        paginator = Cursor()
        page = paginator.paginate_queryset(events.for_trail(), request, self)
        return paginator.get_paginated_response(s.EventSerializer(page, many=True).data)


class ToolList(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="The tool registry",
        description="Every known tool; a legacy name with its replacement.",
        responses={200: s.ToolSerializer(many=True), **errors(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        tools = Tool.objects.select_related("replaced_by").order_by("name")
        return Response(s.ToolSerializer(tools, many=True).data)


class CollectionList(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        summary="Collections",
        description="Each with its installable agents in order (its plugin holds them).",
        responses={200: s.page_of(s.CollectionSerializer), **errors(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        paginator = CollectionCursor()
        page = paginator.paginate_queryset(Collection.objects.for_plugins(), request, self)
        return paginator.get_paginated_response(s.CollectionSerializer(page, many=True).data)


class ImportView(APIView):
    permission_classes = [SignedIn, CanAuthor]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Import agent files",
        description="Multipart: files (.md or .zip, the same limits as the import page), "
        "update=true to replace agents that exist, dry_run=true for the outcomes, warnings "
        "and diffs without saving. All or nothing: one refused file saves none.",
        request={"multipart/form-data": s.ImportSerializer},
        responses={
            200: OpenApiResponse(s.ImportReportSerializer, description="dry run"),
            201: OpenApiResponse(s.ImportReportSerializer, description="imported"),
            **errors(400, 401, 403, 429),
        },
    )
    def post(self, request: Request) -> Response:
        uploaded = request.FILES  # read first: the upload handler notes a refusal meanwhile
        form = ImportUploadForm(request.POST, uploaded, refusal=uploads.refusal(request._request))
        if not form.is_valid():
            field, messages = next(iter(form.errors.items()))
            raise Problem(400, " ".join(messages), field)
        flags = s.ImportSerializer(data={"files": [], **_flags(request)}, partial=True)
        flags.is_valid(raise_exception=True)
        dry_run = flags.validated_data.get("dry_run", False)
        try:
            entries = importing.expand(form.cleaned_data["files"])
        except importing.BatchError as refused:
            raise Problem(400, f"Nothing was imported: {refused}.", "files") from refused
        results, saved = importing.import_batch(
            entries,
            update=form.cleaned_data["update"],
            dry_run=dry_run,
            owner=request.user,
            actor=request.user,
        )
        report = {
            "saved": saved,
            "dry_run": dry_run,
            "results": [
                {
                    "source": result.source,
                    "outcome": result.outcome,
                    "name": result.name,
                    "path": result.path,
                    "error": result.error.message if result.error else None,
                    "line": result.error.line if result.error else None,
                    "warnings": [warning.message for warning in result.warnings],
                    "diff": result.diff,
                    "skipped": result.skipped,
                }
                for result in results
            ],
        }
        if dry_run:
            return Response(report)
        if not saved:
            report["detail"] = "Nothing was imported: every file must pass (see results)."
            return Response(report, status=status.HTTP_400_BAD_REQUEST)
        return Response(report, status=status.HTTP_201_CREATED)


def _flags(request: Request) -> dict[str, Any]:
    return {key: request.POST[key] for key in ("dry_run", "update") if key in request.POST}
