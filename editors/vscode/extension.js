// backlint for VS Code: starts `backlint server` and lets vscode-languageclient do the
// rest. The server asks for the `backlint.*` settings of each workspace folder itself
// (workspace/configuration) and registers for their changes, so nothing here watches
// them; `backlint.command` takes effect with the "backlint: Restart the server" command.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function start() {
  const config = vscode.workspace.getConfiguration("backlint");
  const [command, ...args] = config.get("command", ["backlint", "server"]);
  client = new LanguageClient(
    "backlint",
    "backlint",
    { command, args },
    {
      documentSelector: [
        { scheme: "file", language: "python" },
        { scheme: "untitled", language: "python" },
      ],
    }
  );
  return client.start();
}

async function restart() {
  if (client) {
    await client.stop();
  }
  await start();
}

function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand("backlint.restart", restart));
  return start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
