# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]

RUN Invoke-WebRequest -Uri https://example.com/tool.zip -OutFile tool.zip | Out-Null; `
    Expand-Archive tool.zip -DestinationPath C:\tool

WORKDIR C:\\app
COPY app.ps1 .
CMD ["powershell", "-File", "C:\\app\\app.ps1"]
