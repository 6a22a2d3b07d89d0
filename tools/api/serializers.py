from rest_framework import serializers


class ToolInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class ToolSetSerializer(serializers.Serializer):
    """Something a chat may enable (``Conversation.tools`` holds its ``name``)."""

    name = serializers.CharField(help_text="What a chat's `tools` lists.")
    kind = serializers.ChoiceField(choices=["mcp", "web_search"])
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    tools = ToolInfoSerializer(
        many=True, help_text="The functions it offers, as the server last listed them (empty until it has been)."
    )
