// Dates as the client shows them (dates.js): the sidebar's groups of days; months and times come
// from Intl in the UI's language.
export default {
  en: {
    today: "Today",
    yesterday: "Yesterday",
    previous_7_days: "Previous 7 days",
    previous_30_days: "Previous 30 days",
  },
  ko: {
    today: "오늘",
    yesterday: "어제",
    previous_7_days: "지난 7일",
    previous_30_days: "지난 30일",
  },
};
