// The client's catalogs, one module per area of the app, each with "en" and "ko" side by side:
// a key is "<area>.<name>". frontend/test/i18n.test.mjs fails when a key is missing in a language,
// a placeholder differs, or the source uses a key no catalog has. Add an area here.
import common from "./common.js";
import continueReply from "./continue.js";

export const catalogs = { common, continue: continueReply };
