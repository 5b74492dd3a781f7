import signal
import time

from django.core.management.base import BaseCommand

from reports import jobs


class Command(BaseCommand):
    help = "Lập các Biểu lớn đang chờ trong hàng đợi (ExportJob). Chạy thường trực bên cạnh máy chủ web."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Lập hết các biểu đang chờ rồi dừng")
        parser.add_argument("--sleep", type=float, default=2.0, help="Số giây nghỉ khi hàng đợi trống")

    def handle(self, *, once, sleep, **options):
        self.stopping = False
        # SIGTERM (systemd, docker stop) lets the current workbook finish; the next one waits for a restart.
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            done = self._loop(once, sleep)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"Đã lập {done} biểu.")

    def _loop(self, once, sleep):
        done = 0
        jobs.purge_finished()
        while not self.stopping:
            jobs.requeue_stalled()
            job = jobs.claim_next()
            if job is None:
                if once:
                    break
                time.sleep(sleep)
                continue
            self.stdout.write(f"Biểu {job.form} — {job.area.full_name} — {job.year} (tác vụ {job.pk})")
            job = jobs.run(job)
            done += 1
            if job.error:
                self.stdout.write(self.style.ERROR(f"  không lập được: {job.error}"))
            else:
                self.stdout.write(self.style.SUCCESS(f"  xong: {job.progress} dòng"))
        return done

    def _stop(self, signum, frame):
        self.stopping = True
