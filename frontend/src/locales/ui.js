// The shared pieces (ui/*, markdown.js): dialogs, notices, code blocks.
export default {
  en: {
    copied: "Copied",
    copy: "Copy",
    copy_code: "Copy code",
    code_text: "text",
  },
  ko: {
    copied: "복사했습니다",
    copy: "복사",
    copy_code: "코드 복사",
    code_text: "텍스트",
  },
};
