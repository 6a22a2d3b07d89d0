from core.viewsets import api_router

from . import views

router = api_router()
router.register("todos", views.TodoViewSet, basename="todo")

urlpatterns = router.urls
