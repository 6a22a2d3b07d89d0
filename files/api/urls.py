from core.viewsets import api_router

from . import views

router = api_router()
router.register("files", views.FileViewSet, basename="file")

urlpatterns = router.urls
