// The little of a browser that i18n.js reads when it is imported (the browser's languages, <html
// lang>), for tests of modules that speak through t(). Import it before them.
globalThis.navigator ??= { language: "en-US", languages: ["en-US"] };
globalThis.document ??= { documentElement: {} };
