// "Continue" under a reply cut at the length limit (chat/actions.jsx, chat/session.js).
export default {
  en: {
    button: "Continue",
    hint: "Continue this reply from where it was cut off",
    started: "Continuing the reply",
  },
  ko: {
    button: "계속 생성",
    hint: "잘린 곳부터 답변을 이어서 작성합니다",
    started: "답변을 이어서 작성하는 중",
  },
};
