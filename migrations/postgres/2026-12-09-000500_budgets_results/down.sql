DROP TABLE indicator_results;
DROP TABLE grant_indicators;
DROP TABLE report_actuals;
DROP TABLE budget_revisions;
DROP TABLE budget_lines;
