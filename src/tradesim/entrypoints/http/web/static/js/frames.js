// Coalesce updates to the browser's frame rate: whatever arrives between two frames is applied once,
// in the next frame, so a busy ticker or a fast replay never queues work the screen cannot show.

const jobs = new Map();
let requested = false;

/** Counters a benchmark reads (window.tradesimFrames). */
export const stats = { frames: 0, jobsRun: 0, maxJobsPerFrame: 0 };
window.tradesimFrames = stats;

function flush() {
  requested = false;
  stats.frames += 1;
  const batch = [...jobs.values()];
  jobs.clear();
  stats.maxJobsPerFrame = Math.max(stats.maxJobsPerFrame, batch.length);
  for (const job of batch) {
    stats.jobsRun += 1;
    try {
      job();
    } catch (error) {
      console.error(error);
    }
  }
}

/** Run `job` in the next frame; a later job under the same key replaces an unrun one. */
export function inFrame(key, job) {
  jobs.set(key, job);
  if (!requested) {
    requested = true;
    requestAnimationFrame(flush);
  }
}
