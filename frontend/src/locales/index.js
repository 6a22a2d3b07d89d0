// The client's catalogs, one module per area of the app, each with "en" and "ko" side by side:
// a key is "<area>.<name>". frontend/test/i18n.test.mjs fails when a key is missing in a language,
// a placeholder differs, or the source uses a key no catalog has. Add an area here.
import auth from "./auth.js";
import chat from "./chat.js";
import collector from "./collector.js";
import common from "./common.js";
import composer from "./composer.js";
import continueCatalog from "./continue.js";
import data from "./data.js";
import dates from "./dates.js";
import files from "./files.js";
import instructions from "./instructions.js";
import settings from "./settings.js";
import share from "./share.js";
import shell from "./shell.js";
import sidebar from "./sidebar.js";
import tools from "./tools.js";
import ui from "./ui.js";

export const catalogs = { auth, chat, collector, common, composer, continue: continueCatalog, data, dates, files, instructions, settings, share, shell, sidebar, tools, ui };
