// The password hints under a new-password field: the rules the server really enforces, worded by
// the server in the UI's language (GET /api/v1/auth/password-rules), so the client never restates
// them (one source). Nothing is shown when the server cannot be asked.
import { useEffect, useState } from "preact/hooks";
import { lang, t } from "../i18n.js";

const answers = new Map(); // language -> a promise of the rules

export function passwordRules(language) {
  if (!answers.has(language)) {
    answers.set(language, fetch("/api/v1/auth/password-rules", { headers: { "Accept-Language": language } })
      .then((r) => (r.ok ? r.json() : { rules: [] }))
      .then((body) => (Array.isArray(body?.rules) ? body.rules : []))
      .catch(() => { answers.delete(language); return []; })); // asked again next time
  }
  return answers.get(language);
}

// `id` names the hints for the field's aria-describedby; `note` is said after them.
export function PasswordRules({ id, note }) {
  const language = lang.value;
  const [rules, setRules] = useState([]);
  useEffect(() => {
    let current = true;
    passwordRules(language).then((found) => { if (current) setRules(found); });
    return () => { current = false; };
  }, [language]);
  return (
    <div class="muted password-rules" id={id}>
      {rules.length ? (
        <>
          <span>{t("auth.password_rules")}</span>
          <ul>{rules.map((rule) => <li key={rule.code} data-code={rule.code}>{rule.text}</li>)}</ul>
        </>
      ) : null}
      {note ? <p>{note}</p> : null}
    </div>
  );
}
