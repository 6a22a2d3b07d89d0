from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from .serializers import ToolSetSerializer


class ToolListView(APIView):
    @extend_schema(
        operation_id="tools_list",
        summary="The tools you may enable in a chat",
        description=(
            "Tool servers your plan may use and, when the operator set a search backend, `web_search`. A chat "
            "enables them with `tools` on `POST /conversations` or `PATCH /conversations/{id}`; a reply calls "
            "them when its model has the `tools` capability."
        ),
        responses=ToolSetSerializer(many=True),
        tags=["tools"],
    )
    def get(self, request):
        return Response(ToolSetSerializer(selectors.tools_available(user=request.user), many=True).data)
