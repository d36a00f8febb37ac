// report: the generated Allure report checked as an auditor opens it, in a real browser
// (headless chromium): each drill's page must show the drill, its RTO and RPO against their
// objectives and the RTO/RPO chart, and no auto-captured expect() steps. Failures handled: no
// report (ENOENT, said with what to run), a page that did not render (the drill's name absent).
export { checkReportInBrowser, type ReportCheck } from './check-report.ts';
