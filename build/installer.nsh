; Included by electron-builder's NSIS installer (build/installer.nsh is picked up by name).
; pocketkube:// join links open the app: registered for the installing user (or machine), as the running app
; registers them with app.setAsDefaultProtocolClient; removed again on uninstall.
!macro customInstall
  WriteRegStr SHELL_CONTEXT "Software\Classes\pocketkube" "" "URL:PocketKube join link"
  WriteRegStr SHELL_CONTEXT "Software\Classes\pocketkube" "URL Protocol" ""
  WriteRegStr SHELL_CONTEXT "Software\Classes\pocketkube\DefaultIcon" "" "$INSTDIR\${APP_EXECUTABLE_FILENAME},0"
  WriteRegStr SHELL_CONTEXT "Software\Classes\pocketkube\shell\open\command" "" '"$INSTDIR\${APP_EXECUTABLE_FILENAME}" "%1"'
!macroend

!macro customUnInstall
  DeleteRegKey SHELL_CONTEXT "Software\Classes\pocketkube"
!macroend
