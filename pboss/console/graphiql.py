"""GraphiQL inside the console at /ui/graphiql: the API's own vendored GraphiQL assets (served by
`pboss.http.graphiql.mount_graphiql_assets` at /static/graphiql whenever the console is on), under
the console's navigation, posting to /graphql with the console user's key.

The login form keeps the key in the tab's sessionStorage (`pboss.apiKey`, `static/console.js`);
`pboss-graphiql.js` reads it from there and sends it as `Authorization: Bearer` with every request,
so GraphiQL opens already answering for the logged-in user. The session cookie itself stays
HttpOnly and is never handed to the page's script.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pboss.console.ask import caller
from pboss.console.render import page
from pboss.http.graphiql import ASSETS_PATH

router = APIRouter()

#: Where the console's GraphiQL sends its operations.
ENDPOINT = "/graphql"


@router.get("/ui/graphiql")
def graphiql(request: Request) -> Response:
    """GraphiQL under the console's navigation, for the logged-in user."""
    return page(
        request,
        "graphiql.html",
        "GraphiQL",
        principal=caller(request),
        assets=ASSETS_PATH,
        endpoint=ENDPOINT,
    )
