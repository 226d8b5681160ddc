// The app-pg jest project: the app-tier tests on the PostgreSQL of scripts/pg-local.sh (see test-db.ts).
process.env.BMI_TEST_DB = 'postgres';
