from django.core.management.base import BaseCommand

from recognition import services


class Command(BaseCommand):
    help = "Gửi lại các thư thông báo hồ sơ công nhận chưa gửi được (thư chờ gửi). Chạy định kỳ bằng cron."

    def handle(self, **options):
        sent, failed = services.send_outbox()
        self.stdout.write(f"Đã gửi {sent} thư, {failed} thư chưa gửi được.")
        if failed:
            self.stderr.write("Xem lỗi của các thư chưa gửi được trong trang quản trị: Thư chờ gửi.")
