from core.viewsets import api_router

from . import views

router = api_router()
router.register("collector/items", views.ItemViewSet, basename="collector-item")
router.register("collector/tags", views.TagViewSet, basename="collector-tag")

urlpatterns = router.urls
