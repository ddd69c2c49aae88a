from django.urls import path

from linge.insights import views

# Included by linge.workbench.urls under /work/hot/ (namespace "workbench").
urlpatterns = [
    path("", views.hot, name="hot"),
    path("agenda/", views.add_to_agenda, name="hot_agenda"),
    path("agenda/<int:pk>/", views.deliberation, name="hot_deliberation"),
]
