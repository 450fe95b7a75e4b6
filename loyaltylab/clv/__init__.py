from loyaltylab.clv._rfm import *  # temporary
from loyaltylab.clv._models import *
