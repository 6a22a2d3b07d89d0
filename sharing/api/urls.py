from core.viewsets import api_router

from . import views

router = api_router()
router.register("shares", views.ShareViewSet, basename="share")
router.register("samples", views.SampleViewSet, basename="sample")

urlpatterns = router.urls
