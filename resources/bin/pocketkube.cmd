@echo off
rem PocketKube's command on Windows, from a source checkout: the CLI on Node. kubectl runs it for credentials
rem (Windows has no sh, so there is no curl fast path). The installed app writes its own copy that runs the
rem app binary as Node instead (electron/core/credential/install-helper.ts).
setlocal
if not defined POCKETKUBE_NODE set "POCKETKUBE_NODE=node"
"%POCKETKUBE_NODE%" "%~dp0..\..\dist\electron\cli\main.js" %*
exit /b %ERRORLEVEL%
