// Custom instructions (Settings) and a new chat's settings kept until its first message: the chat
// header's indicator of a system prompt or collector items.
export default {
  en: {
    tab: "Custom instructions",
    intro: "What should the assistant know about you, and how should it answer? This goes before every chat's own system prompt. API keys (/v1) do not use it: those programs send their own.",
    label: "Custom instructions",
    placeholder: "e.g. I'm a developer in Seoul. Answer in Korean, briefly, with code examples.",
    counter: "{count} / {max} characters",
    save: "Save instructions",
    saved: "Custom instructions saved",
    cleared: "Custom instructions cleared",
    has_prompt: "This chat has a system prompt",
    has_items: { one: "{count} collector item is given to the model", other: "{count} collector items are given to the model" },
    has_prompt_and_items: { one: "This chat has a system prompt and {count} collector item", other: "This chat has a system prompt and {count} collector items" },
    badge_prompt: "Prompt",
  },
  ko: {
    tab: "맞춤 지침",
    intro: "어시스턴트가 알아 두었으면 하는 내 정보와 원하는 답변 방식을 적어 주세요. 모든 채팅에서 채팅별 시스템 프롬프트보다 먼저 전달됩니다. API 키(/v1)로 보내는 요청에는 적용되지 않습니다. 이런 프로그램은 시스템 프롬프트를 직접 보내기 때문입니다.",
    label: "맞춤 지침",
    placeholder: "예: 서울에 사는 개발자입니다. 한국어로 짧게, 코드 예시와 함께 답해 주세요.",
    counter: "{count} / {max}자",
    save: "지침 저장",
    saved: "맞춤 지침을 저장했습니다",
    cleared: "맞춤 지침을 지웠습니다",
    has_prompt: "이 채팅에는 시스템 프롬프트가 있습니다",
    has_items: { other: "컬렉터 항목 {count}개를 모델에 함께 전달합니다" },
    has_prompt_and_items: { other: "이 채팅에는 시스템 프롬프트와 컬렉터 항목 {count}개가 있습니다" },
    badge_prompt: "프롬프트",
  },
};
