// CONTRACT STUB (issue 18): switchboard/admin is built here.
export {};
