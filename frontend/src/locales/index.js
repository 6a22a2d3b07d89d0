// The client's catalogs, one module per area of the app, each with "en" and "ko" side by side:
// a key is "<area>.<name>". frontend/test/i18n.test.mjs fails when a key is missing in a language,
// a placeholder differs, or the source uses a key no catalog has. Add an area here.
import chat from "./chat.js";
import common from "./common.js";
import composer from "./composer.js";
import continueCatalog from "./continue.js";
import data from "./data.js";
import files from "./files.js";
import instructions from "./instructions.js";

export const catalogs = { chat, common, composer, continue: continueCatalog, data, files, instructions };
