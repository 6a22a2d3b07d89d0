// A menu button: `items()` answers [{label, onSelect, checked?, description?, danger?}] when opened;
// arrows move, Escape closes (this menu only), Tab leaves, a click elsewhere closes.
import { useLayoutEffect, useRef, useState } from "preact/hooks";

export function MenuButton({ label, items, className = "icon", children }) {
  const [open, setOpen] = useState(false);
  const button = useRef(null);
  const menu = useRef(null);
  const close = (refocus = true) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  useLayoutEffect(() => {
    if (!open) return undefined;
    (menu.current.querySelector("[aria-checked=true]") ?? menu.current.querySelector("button"))?.focus();
    const outside = (event) => {
      if (!menu.current?.contains(event.target) && !button.current?.contains(event.target)) close(false);
    };
    document.addEventListener("pointerdown", outside, true);
    return () => document.removeEventListener("pointerdown", outside, true);
  }, [open]);

  const onKeyDown = (event) => {
    const buttons = [...menu.current.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    // Escape closes this menu only, not the drawer or dialog it sits in.
    if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); }
    else if (event.key === "ArrowDown") { event.preventDefault(); buttons[(at + 1) % buttons.length].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); buttons[(at - 1 + buttons.length) % buttons.length].focus(); }
    else if (event.key === "Tab") close(false);
  };

  return (
    <>
      <button ref={button} type="button" class={className} aria-label={label} aria-haspopup="menu"
        aria-expanded={String(open)} onClick={() => (open ? close() : setOpen(true))}>
        {children}
      </button>
      {open && (
        <div ref={menu} class="menu" role="menu" aria-label={label} onKeyDown={onKeyDown}>
          {items().map((item) => (
            <button type="button" role={item.checked === undefined ? "menuitem" : "menuitemradio"}
              aria-checked={item.checked === undefined ? undefined : String(item.checked)}
              class={item.danger ? "danger" : undefined}
              onClick={() => { close(); item.onSelect(); }}>
              <span class="menu-label">{item.label}</span>
              {item.description ? <span class="menu-description">{item.description}</span> : null}
            </button>
          ))}
        </div>
      )}
    </>
  );
}
