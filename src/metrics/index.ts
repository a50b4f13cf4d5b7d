// CONTRACT STUB (issue 18): switchboard/metrics is built here.
export {};
