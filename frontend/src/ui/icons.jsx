// Line icons drawn for this client (24x24, stroked with the text colour); decorative only: every
// button that shows one also has an accessible name.
const ICONS = {
  copy: "M9 9h11v11H9z M5 15H4V4h11v1",
  regenerate: "M20 12a8 8 0 1 1-2.3-5.6 M20 4v5h-5",
  up: "M7 10v11H3V10z M7 10l4-7a2 2 0 0 1 3 2l-1 4h6a2 2 0 0 1 2 2.3l-1.4 7A2 2 0 0 1 17.6 21H7",
  down: "M7 14V3H3v11z M7 14l4 7a2 2 0 0 0 3-2l-1-4h6a2 2 0 0 0 2-2.3l-1.4-7A2 2 0 0 0 17.6 3H7",
  edit: "M4 20h4L19 9l-4-4L4 16z M13 7l4 4",
  send: "M12 19V5 M5 12l7-7 7 7",
  stop: "M7 7h10v10H7z",
  menu: "M4 6h16 M4 12h16 M4 18h16",
  close: "M6 6l12 12 M18 6L6 18",
  dots: "M5 12h.01 M12 12h.01 M19 12h.01",
  sliders: "M4 6h10 M18 6h2 M16 4v4 M4 12h4 M12 12h8 M10 10v4 M4 18h12 M20 18h0 M18 16v4",
  compose: "M12 4H5v15h15v-7 M17 3l4 4-8 8H9v-4z",
  paperclip: "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9",
  file: "M14 3H6v18h12V7z M14 3v4h4 M9 13h6 M9 17h6",
  download: "M12 4v11 M7 10l5 5 5-5 M5 20h14",
  previous: "M15 6l-6 6 6 6",
  next: "M9 6l6 6-6 6",
  tool: "M14.7 6.3a1 1 0 0 0 0 1.4l1.6 1.6a1 1 0 0 0 1.4 0l3.8-3.8a6 6 0 0 1-7.9 7.9l-6.9 6.9a2.1 2.1 0 0 1-3-3l6.9-6.9a6 6 0 0 1 7.9-7.9z",
};

export const Icon = ({ name }) => (
  <svg viewBox="0 0 24 24" aria-hidden="true" class={`icon icon-${name}`}><path d={ICONS[name]} /></svg>
);
