// The client's catalogs, one module per area of the app, each with "en" and "ko" side by side:
// a key is "<area>.<name>". frontend/test/i18n.test.mjs fails when a key is missing in a language,
// a placeholder differs, or the source uses a key no catalog has. Add an area here.
import auth from "./auth.js";
import collector from "./collector.js";
import common from "./common.js";
import data from "./data.js";
import dates from "./dates.js";
import instructions from "./instructions.js";
import settings from "./settings.js";
import share from "./share.js";
import shell from "./shell.js";
import sidebar from "./sidebar.js";
import ui from "./ui.js";

export const catalogs = { common, auth, collector, data, dates, instructions, settings, share, shell, sidebar, ui };
