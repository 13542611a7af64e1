-- CreateTable
CREATE TABLE "job_runs" (
    "job" VARCHAR(60) NOT NULL,
    "interval_seconds" INTEGER NOT NULL,
    "last_success_at" TIMESTAMP(3),
    "last_failure_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_runs_pkey" PRIMARY KEY ("job")
);
