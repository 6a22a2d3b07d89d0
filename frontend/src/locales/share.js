// Sharing a conversation (share.jsx): its links, made, copied and revoked.
export default {
  en: {
    revoked: "Link revoked",
    links: "Links to this conversation",
    share_link: "Share link",
    copy_link: "Copy link",
    revoke_link: "Revoke link",
    no_link: "No link yet.",
    created: "Link created and copied",
    create_link: "Create link",
    title: "Share conversation",
    explain: "Anyone with a link sees the conversation as it is when the link is made; later messages are not shared.",
  },
  ko: {
    revoked: "링크를 취소했습니다",
    links: "이 대화의 링크",
    share_link: "공유 링크",
    copy_link: "링크 복사",
    revoke_link: "링크 취소",
    no_link: "아직 링크가 없습니다.",
    created: "링크를 만들어 복사했습니다",
    create_link: "링크 만들기",
    title: "대화 공유",
    explain: "링크가 있는 사람은 누구나 링크를 만든 시점의 대화를 볼 수 있습니다. 그 뒤에 오간 메시지는 공유되지 않습니다.",
  },
};
