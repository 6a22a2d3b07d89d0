from django.db import migrations, models

# The seeded starters (0002) are English: they are marked so, and their Korean counterparts added.
SEEDED_ENGLISH = [
    "Improve my text",
    "Write an email",
    "Explain this code",
    "Find the bug",
    "Explain like I'm five",
    "Quiz me",
]
KOREAN = [
    # category, title, text
    ("writing", "글 다듬기", "다음 글의 뜻은 그대로 두고 명확하고 간결하게 다시 써 주세요:\n\n"),
    ("writing", "이메일 쓰기", "다음 내용으로 짧고 친절한 이메일을 써 주세요: "),
    ("coding", "코드 설명", "다음 코드가 하는 일을 단계별로 설명해 주세요:\n\n"),
    ("coding", "버그 찾기", "이 코드가 예상대로 동작하지 않습니다. 버그를 찾아 고치는 방법을 알려 주세요:\n\n"),
    ("learning", "쉽게 설명하기", "다음 개념을 예시를 들어 쉬운 말로 설명해 주세요: "),
    ("learning", "퀴즈 내기", "내 지식을 확인할 수 있게 한 번에 하나씩 다섯 문제를 내 주세요. 주제: "),
]


def seed(apps, schema_editor):
    Prompt = apps.get_model("conversations", "Prompt")
    Prompt.objects.filter(title__in=SEEDED_ENGLISH, language="").update(language="en")
    for order, (category, title, text) in enumerate(KOREAN):
        Prompt.objects.get_or_create(
            title=title, language="ko", defaults={"category": category, "text": text, "order": order}
        )


def unseed(apps, schema_editor):
    Prompt = apps.get_model("conversations", "Prompt")
    Prompt.objects.filter(title__in=[title for _c, title, _t in KOREAN], language="ko").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0011_alter_conversation_options_alter_feedback_options_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="prompt",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("", "Every language"), ("en", "English"), ("ko", "한국어")],
                default="",
                max_length=16,
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
