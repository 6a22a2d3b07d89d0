export default {
  en: {
    cancel: "Cancel",
    save: "Save",
    close: "Close",
    delete: "Delete",
    loading: "Loading…",
  },
  ko: {
    cancel: "취소",
    save: "저장",
    close: "닫기",
    delete: "삭제",
    loading: "불러오는 중…",
  },
};
